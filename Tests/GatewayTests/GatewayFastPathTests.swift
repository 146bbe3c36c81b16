import Foundation
@testable import Gateway
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The event-loop fast path and the Hummingbird path on one connection.
@Suite("Gateway fast path")
struct GatewayFastPathTests {
    @Test("pipelined requests mixing both paths are answered in order, each by its own path's rules")
    func pipelinedInOrder() async throws {
        try await GatewayHarness.with(testConfig(capacity: 100, refill: 100)) { h in
            let chat = GatewayHarness.chat(maxTokens: 10)
            func post(_ body: String) -> String {
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-key\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let get = "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-key\r\n\r\n"
            let health = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            // fast, Hummingbird (bad JSON: 400), fast, Hummingbird (no key: 401), Hummingbird, fast
            let requests = [post(chat), post("{not json"), get, post(chat).replacingOccurrences(of: "Authorization: Bearer sk-test-key\r\n", with: ""),
                            health, post(chat)]
            let answers = try await Task.detached { try RawHTTP.exchange(port: h.port, sending: requests.joined(), answers: requests.count) }.value
            #expect(answers.map(\.status) == [200, 400, 200, 401, 200, 200])
            #expect(answers[0].headers["x-ratelimit-limit-requests"] == "100")
            #expect(answers[0].body.contains("chat.completion"))
            #expect(answers[1].body.contains("not valid JSON"))
            #expect(answers[4].body == "ok\n")
            let stats = try #require(h.server.responder.metrics.stats()[ClientKey.fingerprint("sk-test-key")])
            #expect(stats.admitted == 3)
            #expect(stats.waiting == 0)
        }
    }
}

/// A connection that changes keys between requests.
@Suite("Gateway fast path: keys on one connection")
struct GatewayFastPathKeysTests {
    @Test("each request on a connection is counted on its own key's row, however the keys alternate")
    func keysAlternate() async throws {
        try await GatewayHarness.with(testConfig(capacity: 100, refill: 100)) { h in
            let port = h.port
            let body = GatewayHarness.chat(maxTokens: 5)
            let auths = ["Authorization: Bearer sk-a", "Authorization: Bearer sk-a", "Authorization: Bearer sk-b",
                            "Authorization: Basic xyz\r\nx-api-key: sk-c", "Authorization: Bearer sk-a", "x-api-key: sk-b",
                            "Authorization: Basic xyz\r\nx-api-key: sk-c", "x-api-key: sk-b"]
            let requests = auths.map { auth in
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(auth)\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }
            let statuses = try await offPool { () -> [Int] in
                let connection = try RawHTTP.Connection(port: port)
                return try requests.map { try connection.exchange($0).status }
            }
            #expect(statuses == Array(repeating: 200, count: requests.count))
            let stats = h.server.responder.metrics.stats()
            #expect(stats[ClientKey.fingerprint("sk-a")]?.admitted == 3)
            #expect(stats[ClientKey.fingerprint("sk-b")]?.admitted == 3)
            #expect(stats[ClientKey.fingerprint("sk-c")]?.admitted == 2)
        }
    }
}

/// A client that goes away while its fast request is upstream.
@Suite("Gateway fast path: client gone mid-request (real time)")
struct GatewayFastPathHangUpTests {
    @Test("real time: the answer that finds its client gone is still reconciled and counted")
    func settledWithoutClient() async throws {
        let mock = MockUpstreamConfiguration(timeToFirstToken: .milliseconds(400))
        try await GatewayHarness.with(testConfig(capacity: 100, refill: 100, tpm: 100_000), mock: mock) { h in
            let port = h.port
            let body = GatewayHarness.chat(maxTokens: 50)
            let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-gone\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            try await offPool {
                let connection = try RawHTTP.Connection(port: port)
                try connection.send(request)
                Thread.sleep(forTimeInterval: 0.1)   // admitted and upstream; then gone
            }
            let key = ClientKey.fingerprint("sk-gone")
            var stats = h.server.responder.metrics.stats()[key]
            for _ in 0..<100 where (stats?.tokensReconciled ?? 0) == 0 {
                try await Task.sleep(for: .milliseconds(100))
                stats = h.server.responder.metrics.stats()[key]
            }
            #expect(stats?.admitted == 1)
            #expect((stats?.tokensReconciled ?? 0) > 0, "the answer was not reconciled")
            #expect(stats?.upstreamStatus[200] == 1)
        }
    }
}

/// The same requests through either path get the same answers.
@Suite("Gateway fast path against the Hummingbird path")
struct GatewayFastPathParityTests {
    /// Status, fields and body of each answer, with what depends on the instant it was made
    /// (levels, times to reset and retry, dates) reduced to whether it is there.
    static func answers(fastPath: Bool) async throws -> [String] {
        // One request token per 100 s: none comes back while the test runs, however slow the machine.
        var c = testConfig(capacity: 3, refill: 0.01, tpm: 600)
        c.keys = [KeyEntry(name: "alice", secret: "sk-alice", tenant: "acme")]
        var out: [String] = []
        try await GatewayHarness.with(c, fastPath: fastPath) { h in
            let requests: [(String?, String)] = [
                ("sk-alice", GatewayHarness.chat(maxTokens: 10)), ("sk-alice", GatewayHarness.chat(maxTokens: 10)),
                ("sk-alice", GatewayHarness.chat(maxTokens: 10000)),          // never fits 600 tokens
                ("sk-alice", GatewayHarness.chat(maxTokens: 10)), ("sk-alice", GatewayHarness.chat(maxTokens: 10)),
                ("sk-other", GatewayHarness.chat(maxTokens: 10)), (nil, GatewayHarness.chat(maxTokens: 10)),
                ("sk-alice", "{not json"),
            ]
            for (key, body) in requests {
                let a = try await h.request(.POST, "/v1/chat/completions", key: key, body: body)
                var fields: [String] = []
                for (name, value) in a.headers {
                    let n = name.lowercased()
                    if ["date", "server", "content-length"].contains(n) { continue }
                    // Levels refill between the two runs' requests at their own pace.
                    let timed = n.hasPrefix("x-ratelimit-reset") || n.hasPrefix("x-ratelimit-remaining") || n.hasPrefix("retry-after")
                        || n == "ratelimit"
                    fields.append(n + ": " + (timed ? "(set)" : value))
                }
                // The message says how long to wait, to the millisecond: the code and type decide.
                // A completion's body carries its creation second: its usage decides.
                let error = a.error.map { "\($0["type"] ?? "")/\($0["code"] ?? "")" }
                    ?? TokenUsage(responseBody: Array(a.body.utf8)).map { "usage \($0.input)+\($0.output)" } ?? a.body
                out.append("\(a.status) \(fields.sorted().joined(separator: "; ")) \(error)")
            }
        }
        return out
    }

    @Test("admissions, refusals, a cost that never fits, other keys and bad requests: the same answers either way")
    func sameAnswers() async throws {
        let fast = try await Self.answers(fastPath: true)
        let slow = try await Self.answers(fastPath: false)
        #expect(fast.count == slow.count)
        for (f, s) in zip(fast, slow) { #expect(f == s) }
        #expect(fast.map { $0.prefix(3) } == ["200", "200", "429", "200", "429", "200", "401", "400"])
    }
}

/// The connection's state on the fast path: the idle timeout counts from the last request
/// whichever path carried it.
@Suite("Gateway fast path idle timeout (real time)")
struct GatewayFastPathIdleTests {
    @Test("real time: a connection carrying only fast requests stays open while they come, and closes once idle")
    func idleAfterFastTraffic() async throws {
        var c = testConfig(capacity: 100, refill: 100)
        c.clientTimeout = .milliseconds(400)
        try await GatewayHarness.with(c) { h in
            let port = h.port
            let body = GatewayHarness.chat(maxTokens: 5)
            let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-idle\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            // Eight requests 150 ms apart (1.2 s, three timeouts long) on one connection, then silence.
            let (statuses, closedAfter) = try await offPool { () -> ([Int], Duration?) in
                let connection = try RawHTTP.Connection(port: port)
                var statuses: [Int] = []
                for _ in 0..<8 {
                    statuses.append(try connection.exchange(request).status)
                    Thread.sleep(forTimeInterval: 0.15)
                }
                return (statuses, connection.waitForClose(upTo: 20))
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            let closed = try #require(closedAfter, "the idle connection was never closed")
            #expect(closed < .seconds(15))
            let stats = try #require(h.server.responder.metrics.stats()[ClientKey.fingerprint("sk-idle")])
            #expect(stats.admitted == 8)
        }
    }
}

/// A blocking HTTP/1.1 client over one socket: sends raw bytes, reads `answers` answers with a
/// content-length (or none) in order. Runs off the test's executor (detached task).
enum RawHTTP {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// One kept-alive connection: a request, its answer, and so on.
    final class Connection {
        let fd: Int32
        private var buffer: [UInt8] = []

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket") }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(fd); throw Failure(description: "connect") }
        }

        deinit { close(fd) }

        func exchange(_ text: String) throws -> Answer {
            try send(text)
            return try receive()
        }

        /// The next answer on the connection.
        func receive() throws -> Answer { try RawHTTP.readAnswer(fd, &buffer) }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { throw Failure(description: "send") }
                sent += n
            }
        }

        /// How long until the server closes the connection (nil: not within `seconds`).
        func waitForClose(upTo seconds: Int) -> Duration? {
            let start = ContinuousClock.now
            var chunk = [UInt8](repeating: 0, count: 4096)
            while ContinuousClock.now - start < .seconds(seconds) {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return ContinuousClock.now - start }
                if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { return ContinuousClock.now - start }
            }
            return nil
        }
    }

    /// Reads one answer (head and a content-length body) from `fd`, keeping what follows.
    static func readAnswer(_ fd: Int32, _ buffer: inout [UInt8]) throws -> Answer {
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() throws {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: "connection ended") }
            buffer.append(contentsOf: chunk[..<n])
        }
        let separator = Array("\r\n\r\n".utf8)
        var end: Int?
        while end == nil {
            if buffer.count >= 4 { end = (0...(buffer.count - 4)).first { buffer[$0..<($0 + 4)].elementsEqual(separator) } }
            if end == nil { try fill() }
        }
        let head = String(decoding: buffer[..<end!], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(end! + 4)
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { try fill() }
        let answer = Answer(status: status, headers: headers, body: String(decoding: buffer[..<length], as: UTF8.self))
        buffer.removeFirst(length)
        return answer
    }

    static func exchange(port: Int, sending text: String, answers count: Int) throws -> [Answer] {
        let connection = try Connection(port: port)
        try connection.send(text)
        return try (0..<count).map { _ in try connection.receive() }
    }
}
