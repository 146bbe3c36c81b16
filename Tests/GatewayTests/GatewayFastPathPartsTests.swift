import Foundation
@testable import Gateway
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

/// The event-loop path's parts, each against what the Hummingbird path does for the same input.
@Suite("Gateway fast path parts")
struct GatewayFastPathPartsTests {
    /// Levels with every dimension set or not, limits whole or fractional, remaining from 0 to
    /// full and in between, refills fast and slow.
    static func randomLevels(_ g: inout some RandomNumberGenerator) -> GatewayLevels {
        var levels = GatewayLevels()
        for d in GatewayDimension.allCases where d == .requests || Bool.random(using: &g) {
            let limit = [1, 7, 20, 3.5, 6.67, 1_000_000_000, 90_000].randomElement(using: &g)!
            let remaining = [0, limit, limit / 3, Double.random(in: 0...limit, using: &g)].randomElement(using: &g)!
            let refill = [0.001, 0.5, 1, 3, 1_500, 1e9].randomElement(using: &g)!
            levels[d] = DimensionStatus(limit: limit, remaining: remaining, refillPerSecond: refill)
        }
        return levels
    }

    /// The fields as the first version of the gateway formatted them, with `String`s: the
    /// reference the byte writer is held to.
    static func referenceFields(_ status: GatewayLevels) -> [(String, String)] {
        var out: [(String, String)] = []
        if let r = status[.requests] {
            out.append(("x-ratelimit-limit-requests", RateLimitHeaders.whole(r.limit)))
            out.append(("x-ratelimit-remaining-requests", String(Int(r.remaining.rounded(.down)))))
            out.append(("x-ratelimit-reset-requests", referenceGoDuration(r.resetSeconds)))
        }
        if let t = status[.tokens] {
            out.append(("x-ratelimit-limit-tokens", RateLimitHeaders.whole(t.limit)))
            out.append(("x-ratelimit-remaining-tokens", String(Int(t.remaining.rounded(.down)))))
            out.append(("x-ratelimit-reset-tokens", referenceGoDuration(t.resetSeconds)))
        }
        var policies: [String] = []
        var states: [String] = []
        for d in GatewayDimension.allCases {
            guard let s = status[d] else { continue }
            policies.append("\"\(d.rawValue)\";q=\(RateLimitHeaders.whole(s.limit));w=\(Int(s.windowSeconds.rounded(.up)))"
                + (d == .requests ? "" : ";bucketscope-qu=\"tokens\""))
            states.append("\"\(d.rawValue)\";r=\(Int(s.remaining.rounded(.down)));t=\(Int(s.resetSeconds.rounded(.up)))")
        }
        if !policies.isEmpty {
            out.append(("RateLimit-Policy", policies.joined(separator: ", ")))
            out.append(("RateLimit", states.joined(separator: ", ")))
        }
        return out
    }

    @Test("the header writer writes the reference fields byte for byte; the Hummingbird path adds the same")
    func rawHeadersMatch() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let levels = Self.randomLevels(&g)
            let reference = Self.referenceFields(levels)
            var buffer = ByteBuffer()
            RateLimitHeaders.write(levels, into: &buffer)
            #expect(String(buffer: buffer) == reference.map { "\($0.0): \($0.1)\r\n" }.joined())
            var fields = HTTPFields()
            RateLimitHeaders.add(levels, to: &fields)
            #expect(fields.map { "\($0.name.rawName)=\($0.value)" } == reference.map { "\($0.0)=\($0.1)" })
        }
        var none = ByteBuffer()
        RateLimitHeaders.write(GatewayLevels(), into: &none)
        #expect(none.readableBytes == 0)
    }

    /// Go's duration text as the first version of the gateway formatted it, with `String`s: the
    /// reference the byte writer is held to.
    static func referenceGoDuration(_ seconds: Double) -> String {
        let ms = Int64((Swift.max(0, seconds) * 1000).rounded(.up))
        if ms == 0 { return "0s" }
        if ms < 1000 { return "\(ms)ms" }
        let h = ms / 3_600_000
        let m = (ms / 60_000) % 60
        let s = ms % 60_000
        var secs = String(s / 1000)
        if s % 1000 != 0 {
            var frac = String(format: "%03d", Int(s % 1000))
            while frac.hasSuffix("0") { frac.removeLast() }
            secs += "." + frac
        }
        if h > 0 { return "\(h)h\(m)m\(secs)s" }
        if m > 0 { return "\(m)m\(secs)s" }
        return "\(secs)s"
    }

    @Test("Go durations and decimals written into a buffer read as the String forms")
    func rawNumbersMatch() {
        var g = SystemRandomNumberGenerator()
        var seconds: [Double] = [0, 0.0001, 0.001, 0.05, 0.25, 0.999, 1, 1.05, 1.5, 59.999, 60, 61.001, 360, 3599.9, 3600, 3723.004, 1e7]
        for _ in 0..<5_000 { seconds.append(Double.random(in: 0..<100_000, using: &g) / [1, 10, 1000].randomElement(using: &g)!) }
        for s in seconds {
            var b = ByteBuffer()
            RateLimitHeaders.writeGoDuration(s, into: &b)
            #expect(String(buffer: b) == Self.referenceGoDuration(s), "\(s)")
            #expect(RateLimitHeaders.goDuration(s) == Self.referenceGoDuration(s), "\(s)")
        }
        for v: Int64 in [0, 7, 10, 99, 100, -1, -250, Int64.max, Int64.min, 1_000_000_000] {
            var b = ByteBuffer()
            RateLimitHeaders.writeDecimal(v, into: &b)
            #expect(String(buffer: b) == String(v))
        }
    }

    @Test("field names are matched in any case, without confusing look-alikes")
    func headerNames() {
        for name in ["Connection", "KEEP-ALIVE", "transfer-encoding", "Host", "content-length", "TE", "Expect", "Accept-Encoding"] {
            #expect(HeaderName.isNotForwarded(name), "\(name)")
        }
        for name in ["Authorization", "Content-Type", "x-api-key", "Hosts", "tee", "expected", "content-lengths", ""] {
            #expect(!HeaderName.isNotForwarded(name), "\(name)")
        }
        #expect(!HeaderName.isRelayed("X-RateLimit-Remaining-Requests"))
        #expect(!HeaderName.isRelayed("ratelimit-policy"))
        #expect(!HeaderName.isRelayed("RateLimit"))
        #expect(!HeaderName.isRelayed("Transfer-Encoding"))
        #expect(HeaderName.isRelayed("x-ratelimit"))          // no suffix: not one of ours
        #expect(HeaderName.isRelayed("ratelimits"))
        #expect(HeaderName.isRelayed("Content-Type"))
        #expect(HeaderName.isRelayed("openai-processing-ms"))
        #expect(HeaderName.isJSON("application/json"))
        #expect(HeaderName.isJSON("Application/JSON; charset=utf-8"))
        #expect(!HeaderName.isJSON("text/plain"))
        #expect(!HeaderName.isJSON("application/jso"))
    }

    @Test("a connection's key cache gives each request the client ClientKey.secret names, as keys change")
    func keyCache() {
        let directory = KeyDirectory([KeyEntry(name: "alice", secret: "sk-a", tenant: "acme")], refuseUnknown: false)
        var cache = FastKeyCache()
        func client(_ fields: [(String, String)]) -> String? {
            let headers = HTTPHeaders(fields)
            let got = cache.client(for: headers, in: directory)?.id
            var typed = HTTPFields()
            for (n, v) in fields { typed.append(HTTPField(name: HTTPField.Name(n)!, value: v)) }
            let expected = ClientKey.secret(in: typed).flatMap { directory.client(for: $0)?.id }
            #expect(got == expected, "\(fields)")
            return got
        }
        #expect(client([("Authorization", "Bearer sk-a")]) == "alice")
        #expect(client([("Authorization", "Bearer sk-a")]) == "alice")                  // cached
        #expect(client([("Authorization", "Bearer sk-b")]) == ClientKey.fingerprint("sk-b"))
        #expect(client([("x-api-key", "sk-a")]) == "alice")
        #expect(client([("x-api-key", " sk-b ")]) == ClientKey.fingerprint("sk-b"))
        #expect(client([("Authorization", "Basic xyz"), ("x-api-key", "sk-a")]) == "alice")
        #expect(client([("Authorization", "Basic xyz"), ("x-api-key", "sk-c")]) == ClientKey.fingerprint("sk-c"))
        #expect(client([("Authorization", "Basic xyz")]) == nil)
        #expect(client([]) == nil)
        #expect(client([("Authorization", "bearer   sk-a  ")]) == "alice")
        let refusing = KeyDirectory([KeyEntry(name: "alice", secret: "sk-a", tenant: nil)], refuseUnknown: true)
        var strict = FastKeyCache()
        #expect(strict.client(for: HTTPHeaders([("Authorization", "Bearer sk-a")]), in: refusing)?.id == "alice")
        #expect(strict.client(for: HTTPHeaders([("Authorization", "Bearer sk-z")]), in: refusing) == nil)
        #expect(strict.client(for: HTTPHeaders([("Authorization", "Bearer sk-a")]), in: refusing)?.id == "alice")
    }

    @Test("an upstream request is written with the client's fields, less its connection's, with host and length")
    func upstreamRequestBytes() throws {
        let target = try #require(UpstreamTarget(url: "http://127.0.0.1:9999/proxy"))
        let headers = HTTPHeaders([("Host", "gateway:8080"), ("Authorization", "Bearer sk-a"), ("Connection", "keep-alive"),
                                   ("Content-Type", "application/json"), ("Content-Length", "2"), ("Accept-Encoding", "gzip"),
                                   ("X-Trace", "1")])
        var small = ByteBuffer()
        let rest = UpstreamRequest(method: .POST, uri: "/v1/chat/completions?x=1", headers: headers, body: ByteBuffer(string: "{}"))
            .serialize(into: &small, target: target)
        #expect(rest == nil)
        #expect(String(buffer: small) == "POST /proxy/v1/chat/completions?x=1 HTTP/1.1\r\nAuthorization: Bearer sk-a\r\n"
            + "Content-Type: application/json\r\nX-Trace: 1\r\nhost: 127.0.0.1:9999\r\ncontent-length: 2\r\n\r\n{}")
        var get = ByteBuffer()
        _ = UpstreamRequest(method: .GET, uri: "/v1/models", headers: [:], body: nil).serialize(into: &get, target: target)
        #expect(String(buffer: get) == "GET /proxy/v1/models HTTP/1.1\r\nhost: 127.0.0.1:9999\r\n\r\n")
        var big = ByteBuffer()
        let body = ByteBuffer(repeating: UInt8(ascii: "a"), count: UpstreamRequest.inlineBody + 1)
        let separate = UpstreamRequest(method: .POST, uri: "/v1/x", headers: [:], body: body).serialize(into: &big, target: target)
        #expect(separate == body)
        #expect(String(buffer: big).hasSuffix("content-length: \(UpstreamRequest.inlineBody + 1)\r\n\r\n"))
    }

    @Test("the scan keeps one slot per field it reads (fixed-size storage, no allocation)")
    func scanSlots() {
        #expect(RequestScan.countedFields.count == 6)
        #expect(RequestScan.maxTokenFields.count == 3)
        #expect(RequestScan.usageFields.count == 4)
    }

    @Test("usage is read in place from a buffer as from its bytes, fallback included")
    func usageInPlace() {
        let bodies = [#"{"id":"x","usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}}"#,
                      #"{"usage" : {"input_tokens":3,"output_tokens":4,"details":{"a":{"b":1}}}, "x":"\"usage\""}"#,
                      #"{"text":"\"usage\": {","usage":{"prompt_tokens":1}}"#,
                      #"{"message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#,
                      #"{"no":"usage"}"#, #"not json"#, ""]
        for b in bodies {
            let buffer = ByteBuffer(string: b)
            #expect(TokenUsage(responseBody: buffer) == TokenUsage(responseBody: Array(b.utf8)), "\(b)")
        }
    }
}
