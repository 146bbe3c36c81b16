import AsyncHTTPClient
import Foundation
@testable import Gateway
import Logging
import NIOCore
import NIOHTTP1

/// A gateway (and mock upstream) on ephemeral loopback ports, driven with AsyncHTTPClient.
struct GatewayHarness {
    let server: GatewayServer
    let port: Int
    let client: HTTPClient

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        func header(_ name: String) -> String? { headers.first(name: name) }
        /// The parsed JSON body's `error` object.
        var error: [String: Any]? {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])?["error"] as? [String: Any]
        }
    }

    /// Runs `body` against a fresh gateway; `mock` nil uses `config.upstream`.
    static func with(_ config: GatewayConfig, mock: MockUpstreamConfiguration? = MockUpstreamConfiguration(),
                     fastPath: Bool = true, _ body: (GatewayHarness) async throws -> Void) async throws {
        var c = config
        c.listen = ListenAddress(host: "127.0.0.1", port: 0)
        c.mock = mock != nil
        var logger = Logger(label: "gateway-tests")
        logger.logLevel = .critical
        let server = try GatewayServer(config: c, mock: mock, logger: logger, fastPath: fastPath)
        let task = Task { try await server.run() }
        let port = try await server.boundPort()
        var http = HTTPClient.Configuration()
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        let harness = GatewayHarness(server: server, port: port, client: client)
        var failure: (any Error)?
        do { try await body(harness) } catch { failure = error }
        try? await client.shutdown()
        await server.shutdown()
        _ = try? await task.value
        if let failure { throw failure }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    func request(_ method: HTTPMethod = .POST, _ path: String, key: String? = "sk-test-key", body: String? = nil,
                 contentType: String? = "application/json", headers: [(String, String)] = [],
                 timeout: TimeAmount = .seconds(30)) async throws -> Answer {
        var r = HTTPClientRequest(url: base + path)
        r.method = method
        if let key { r.headers.add(name: "authorization", value: "Bearer \(key)") }
        if let contentType, body != nil { r.headers.add(name: "content-type", value: contentType) }
        for (n, v) in headers { r.headers.add(name: n, value: v) }
        if let body { r.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(r, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// A chat completion request body.
    static func chat(maxTokens: Int? = nil, stream: Bool = false, includeUsage: Bool = false, content: String = "Hello there") -> String {
        var fields = ["\"model\":\"mock-1\"", "\"messages\":[{\"role\":\"user\",\"content\":\"\(content)\"}]"]
        if let maxTokens { fields.append("\"max_tokens\":\(maxTokens)") }
        if stream { fields.append("\"stream\":true") }
        if includeUsage { fields.append("\"stream_options\":{\"include_usage\":true}") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// A config with the given request bucket and token limit (other dimensions off).
func testConfig(capacity: Double, refill: Double, tpm: Double? = 1_000_000, maxWait: Duration = .zero) -> GatewayConfig {
    var c = GatewayConfig()
    c.limits = LimitSpec(capacity: capacity, refill: refill, tokensPerMinute: tpm)
    c.maxWait = maxWait
    return c
}
