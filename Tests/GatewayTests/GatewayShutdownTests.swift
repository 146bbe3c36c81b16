import AsyncHTTPClient
import Foundation
@testable import Gateway
import Logging
import Testing

@Suite("Gateway shutdown (real time)", .serialized)
struct GatewayShutdownTests {
    @Test("graceful shutdown: the in-flight request finishes, then new connections are refused")
    func graceful() async throws {
        var c = testConfig(capacity: 5, refill: 1)
        c.listen = ListenAddress(host: "127.0.0.1", port: 0)
        c.mock = true
        var logger = Logger(label: "gateway-tests")
        logger.logLevel = .critical
        let server = try GatewayServer(config: c, mock: MockUpstreamConfiguration(timeToFirstToken: .milliseconds(1_500)), logger: logger)
        let run = Task { try await server.run() }
        let port = try await server.boundPort()
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let inFlight = Task {
            var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            r.method = .POST
            r.headers.add(name: "authorization", value: "Bearer sk-x")
            r.headers.add(name: "content-type", value: "application/json")
            r.body = .bytes(.init(string: GatewayHarness.chat(maxTokens: 5)))
            let response = try await client.execute(r, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        }
        // Shut down once the request is admitted (in flight to the mock's 1.5 s first token),
        // not after a fixed sleep: a loaded machine may not have sent it yet by then.
        try await admitted(server)
        await server.shutdown()
        let status = try? await inFlight.value   // no early exit: the client below must be shut down
        #expect(status == 200)
        try await run.value   // returns without error
        var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")
        r.method = .GET
        await #expect(throws: (any Error).self) { _ = try await client.execute(r, timeout: .seconds(2)) }
        try await client.shutdown()
    }
}

@Suite("Gateway shutdown timeout (real time)")
struct GatewayShutdownTimeoutTests {
    @Test("in-flight requests longer than shutdown_timeout are cut, and run() still returns cleanly")
    func timeout() async throws {
        var c = testConfig(capacity: 5, refill: 1)
        c.listen = ListenAddress(host: "127.0.0.1", port: 0)
        c.mock = true
        c.shutdownTimeout = .milliseconds(300)
        var logger = Logger(label: "gateway-tests")
        logger.logLevel = .critical
        let server = try GatewayServer(config: c, mock: MockUpstreamConfiguration(timeToFirstToken: .seconds(300)), logger: logger)
        let run = Task { try await server.run() }
        let port = try await server.boundPort()
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let inFlight = Task {
            var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            r.method = .POST
            r.headers.add(name: "authorization", value: "Bearer sk-x")
            r.headers.add(name: "content-type", value: "application/json")
            r.body = .bytes(.init(string: GatewayHarness.chat(maxTokens: 5)))
            _ = try await client.execute(r, timeout: .seconds(400))
        }
        try await admitted(server)
        let start = ContinuousClock.now
        await server.shutdown()
        try await run.value   // no error: the timeout's cancellation is a clean stop
        // Well under the upstream's 300 s: the 300 ms shutdown timeout cut the request (generous
        // for a loaded machine, where a stall of a minute has been seen).
        #expect(ContinuousClock.now - start < .seconds(150))
        _ = try? await inFlight.value
        try await client.shutdown()
    }
}

/// Waits until the gateway has admitted a request (it is then in flight to the upstream); polls
/// every 10 ms, failing after 300 s instead of hanging (a loaded machine has stalled a test
/// process's cooperative pool for over a minute).
func admitted(_ server: GatewayServer) async throws {
    let start = ContinuousClock.now
    while server.responder.metrics.stats().values.reduce(0, { $0 + $1.admitted }) == 0 {
        guard ContinuousClock.now - start < .seconds(300) else {
            Issue.record("no request admitted within 300 s")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
