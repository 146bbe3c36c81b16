import AsyncHTTPClient
import Foundation
import Logging
@testable import Gateway
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Gateway bad input (real time)", .serialized)
struct GatewayBadInputTests {
    @Test("no key: 401 in OpenAI's shape; x-api-key works too")
    func missingKey() async throws {
        try await GatewayHarness.with(testConfig(capacity: 5, refill: 1)) { h in
            let a = try await h.request(.POST, "/v1/chat/completions", key: nil, body: GatewayHarness.chat())
            #expect(a.status == 401)
            #expect(a.error?["code"] as? String == "missing_api_key")
            let b = try await h.request(.POST, "/v1/chat/completions", key: nil, body: GatewayHarness.chat(maxTokens: 5),
                                        headers: [("x-api-key", "sk-other")])
            #expect(b.status == 200)
        }
    }

    @Test("unknown_keys = refuse: listed keys pass, others get 401 and no bucket")
    func allowList() async throws {
        var c = testConfig(capacity: 5, refill: 1)
        c.keys = [KeyEntry(name: "alice", secret: "sk-alice")]
        c.refuseUnknownKeys = true
        try await GatewayHarness.with(c) { h in
            #expect(try await h.request(.GET, "/v1/models", key: "sk-alice").status == 200)
            let a = try await h.request(.GET, "/v1/models", key: "sk-mallory")
            #expect(a.status == 401)
            #expect(a.error?["code"] as? String == "invalid_api_key")
            #expect(h.server.responder.limits.heldKeys == 1)
        }
    }

    @Test("malformed JSON 400, wrong content type 415, body over the limit 413: nothing reserved")
    func badBodies() async throws {
        var c = testConfig(capacity: 3, refill: 0.1)
        c.maxBodyBytes = 1_000
        try await GatewayHarness.with(c) { h in
            let bad = try await h.request(.POST, "/v1/chat/completions", body: "{\"model\": ")
            #expect(bad.status == 400)
            #expect(bad.error?["code"] as? String == "invalid_json")
            let notObject = try await h.request(.POST, "/v1/chat/completions", body: "[1,2]")
            #expect(notObject.status == 400)
            let type = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(), contentType: "text/plain")
            #expect(type.status == 415)
            let big = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(content: String(repeating: "a", count: 5_000)))
            #expect(big.status == 413)
            #expect(big.error?["code"] as? String == "request_too_large")
            // None of these took a request token.
            let ok = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 5))
            #expect(ok.status == 200)
            #expect(ok.header("x-ratelimit-remaining-requests") == "2")
        }
    }

    @Test("upstream down: 502 in OpenAI's shape and the reservation is given back")
    func upstreamDown() async throws {
        var c = testConfig(capacity: 2, refill: 0.01)
        c.upstream = "http://127.0.0.1:1"
        try await GatewayHarness.with(c, mock: nil) { h in
            for _ in 0..<4 {
                let a = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 5))
                #expect(a.status == 502)
                #expect(a.error?["type"] as? String == "server_error")
            }
            let limits = h.server.responder.limits
            #expect(limits.status(bucket: ClientKey.fingerprint("sk-test-key"))[.requests]?.remaining == 2)
        }
    }

    @Test("upstream too slow: 504 after upstream_timeout")
    func upstreamTimeout() async throws {
        var c = testConfig(capacity: 5, refill: 1)
        c.upstreamTimeout = .milliseconds(300)
        try await GatewayHarness.with(c, mock: MockUpstreamConfiguration(timeToFirstToken: .milliseconds(1500))) { h in
            let a = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 5))
            #expect(a.status == 504)
            #expect(a.error?["code"] as? String == "upstream_timeout")
        }
    }

    @Test("real time: a client that stops sending its body is disconnected after client_timeout")
    func slowClient() async throws {
        var c = testConfig(capacity: 5, refill: 1)
        c.clientTimeout = .milliseconds(300)
        try await GatewayHarness.with(c) { h in
            // Blocking socket calls, up to the gateway's cut: on a thread of their own, so the
            // gateway (on the cooperative pool) is never starved of the thread it needs to cut.
            let port = h.port
            let (connected, n, took) = try await offPool { () -> (Int32, Int, Duration) in
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { return (-1, -1, .zero) }
                defer { close(fd) }
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = in_port_t(UInt16(port).bigEndian)
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-slow\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":"
                _ = head.withCString { send(fd, $0, strlen($0), 0) }
                var tv = timeval(tv_sec: 30, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                let start = ContinuousClock.now
                var buffer = [UInt8](repeating: 0, count: 4096)
                var n = 1
                while n > 0 { n = recv(fd, &buffer, buffer.count, 0) }
                return (connected, n, ContinuousClock.now - start)
            }
            #expect(connected == 0)
            #expect(n == 0, "connection not closed (recv \(n))")
            #expect(took < .seconds(20))   // cut by client_timeout (300 ms), not by this socket's 30 s
            // The gateway still serves.
            let health = try await h.request(.GET, "/healthz", key: nil)
            #expect(health.status == 200)
        }
    }

    @Test("a port already taken: run() fails with the address and the reason, not a clean stop")
    func portInUse() async throws {
        try await GatewayHarness.with(testConfig(capacity: 5, refill: 1)) { h in
            var c = testConfig(capacity: 5, refill: 1)
            c.listen = ListenAddress(host: "127.0.0.1", port: h.port)   // the harness's gateway holds it
            c.mock = true
            var logger = Logger(label: "gateway-tests")
            logger.logLevel = .critical
            let second = try GatewayServer(config: c, mock: MockUpstreamConfiguration(), logger: logger)
            await #expect(throws: GatewayConfigError("cannot listen on 127.0.0.1:\(h.port): address already in use")) {
                try await second.run()
            }
        }
    }

    @Test("a client that hangs up mid-stream: no crash, the estimate stays taken")
    func resetMidStream() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 6_000),
                                      mock: MockUpstreamConfiguration(tokensPerSecond: 400)) { h in
            var r = HTTPClientRequest(url: h.base + "/v1/chat/completions")
            r.method = .POST
            r.headers.add(name: "authorization", value: "Bearer sk-test-key")
            r.headers.add(name: "content-type", value: "application/json")
            r.headers.add(name: "x-mock-completion-tokens", value: "800")
            r.body = .bytes(ByteBuffer(string: GatewayHarness.chat(maxTokens: 1_000, stream: true)))
            let start = ContinuousClock.now   // the estimate is taken after this
            let task = Task {
                let response = try await h.client.execute(r, timeout: .seconds(10))
                for try await _ in response.body { return }   // first chunk, then hang up
            }
            _ = try? await task.value
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await h.request(.GET, "/healthz", key: nil).status == 200)
            let after = try await h.request(.GET, "/v1/models")
            // The cut stream keeps its 1,007-token estimate, less the refill since (100/s) over
            // no more than the time this test saw pass.
            let refilled = 100 * (ContinuousClock.now - start).inSeconds
            let remaining = Int(after.header("x-ratelimit-remaining-tokens") ?? "") ?? -1
            #expect(remaining >= 0 && Double(remaining) <= 6_000 - 1_007 + refilled + 1, "remaining \(remaining), refilled ≤ \(refilled)")
        }
    }

    @Test("a flood of random keys keeps metrics bounded and the buckets evictable")
    func randomKeyFlood() async throws {
        var c = testConfig(capacity: 1, refill: 4)
        c.trackedKeys = 20
        try await GatewayHarness.with(c) { h in
            try await withThrowingTaskGroup(of: Void.self) { g in
                for w in 0..<4 {
                    g.addTask { for i in 0..<75 { _ = try await h.request(.GET, "/v1/models", key: "sk-random-\(w)-\(i)") } }
                }
                try await g.waitForAll()
            }
            let stats = h.server.responder.metrics.stats()
            #expect(stats.count == 21)
            #expect(stats["(other)"]?.requests == 280)
            try await Task.sleep(for: .milliseconds(400))   // every bucket refills (1 token at 4/s)
            h.server.responder.limits.evictIdle()
            #expect(h.server.responder.limits.heldKeys == 0)
        }
    }
}
