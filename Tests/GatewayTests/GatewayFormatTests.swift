import Foundation
@testable import Gateway
import NIOCore
import Testing

@Suite("Gateway formats")
struct GatewayFormatTests {
    @Test("reset durations in Go syntax, as OpenAI sends them")
    func goDurations() {
        #expect(RateLimitHeaders.goDuration(0) == "0s")
        #expect(RateLimitHeaders.goDuration(0.25) == "250ms")
        #expect(RateLimitHeaders.goDuration(1) == "1s")
        #expect(RateLimitHeaders.goDuration(1.5) == "1.5s")
        #expect(RateLimitHeaders.goDuration(360) == "6m0s")
        #expect(RateLimitHeaders.goDuration(3_723) == "1h2m3s")
        #expect(RateLimitHeaders.goDuration(0.0001) == "1ms")
    }

    @Test("fingerprints: stable, short, never the key")
    func fingerprints() {
        let a = ClientKey.fingerprint("sk-proj-abcdefghijklmnop")
        #expect(a == ClientKey.fingerprint("sk-proj-abcdefghijklmnop"))
        #expect(a != ClientKey.fingerprint("sk-proj-abcdefghijklmnoq"))
        #expect(a.count == 16 && a.hasPrefix("key-"))
        #expect(!a.contains("abcdef"))
    }

    @Test("token estimate: 4 characters per token + 4 per message; max tokens or the default")
    func estimate() throws {
        let body = try JSONSerialization.jsonObject(with: Data(#"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hello there, friend"}]}],"max_completion_tokens":300}"#.utf8)) as! [String: Any]
        let e = TokenEstimate(body: body, route: .chatCompletions, defaultMaxTokens: 99)
        // 9 + 19 = 28 characters → 7 tokens, + 2 × 4.
        #expect(e == TokenEstimate(prompt: 15, output: 300))
        let d = TokenEstimate(body: ["prompt": "abcd"], route: .completions, defaultMaxTokens: 99)
        #expect(d == TokenEstimate(prompt: 1, output: 99))
        #expect(TokenEstimate(body: ["input": ["abcdefgh", "ab"]], route: .embeddings, defaultMaxTokens: 99) == TokenEstimate(prompt: 3, output: 0))
    }

    @Test("SSE filter: events split across chunks pass whole; the usage-only chunk is read and dropped")
    func sseFilter() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}\n\n"
            + "data: [DONE]\n\n"
        for dropping in [true, false] {
            var filter = SSEUsageFilter(dropUsageChunk: dropping)
            var out = ""
            var i = stream.startIndex
            while i < stream.endIndex {   // 7-byte pieces
                let j = stream.index(i, offsetBy: 7, limitedBy: stream.endIndex) ?? stream.endIndex
                if let b = filter.feed(ByteBuffer(string: String(stream[i..<j]))) { out += String(buffer: b) }
                i = j
            }
            if let b = filter.finish() { out += String(buffer: b) }
            #expect(filter.usage == TokenUsage(input: 3, output: 4))
            #expect(out.contains("\"content\":\"hi\""))
            #expect(out.hasSuffix("data: [DONE]\n\n"))
            #expect(out.contains("\"choices\":[]") == !dropping)
        }
    }

    @Test("config: full example parses; unknown fields and bad values are named")
    func config() throws {
        let c = try GatewayConfig.parse(toml: """
            listen = "127.0.0.1:0"
            upstream = "https://api.openai.com"
            keying = "hierarchical"
            max_wait = "2s"
            unknown_keys = "refuse"
            [limits]
            rpm = 120
            tpm = 30000
            [parent]
            capacity = 20
            refill = 5
            [keys.alice]
            key_env = "ALICE_KEY"
            tenant = "acme"
            tpm = 90000
            [tenants.acme]
            tpm = 100000
            """, environment: ["ALICE_KEY": "sk-alice"])
        #expect(c.keying == .hierarchical)
        #expect(c.maxWait == .seconds(2))
        #expect(c.limits.refill == 2 && c.limits.capacity == 2)
        #expect(c.keys == [KeyEntry(name: "alice", secret: "sk-alice", tenant: "acme", limits: LimitSpec(tokensPerMinute: 90_000))])
        #expect(c.tenants["acme"]?.tokensPerMinute == 100_000)
        try c.validate()
        #expect(throws: GatewayConfigError("limits.tmp: unknown field")) { try GatewayConfig.parse(toml: "[limits]\ntmp = 5") }
        #expect(throws: GatewayConfigError("keying: expected one of per-key, per-tenant, shared, hierarchical, got \"fair\"")) {
            try GatewayConfig.parse(toml: "keying = \"fair\"")
        }
        #expect(throws: GatewayConfigError.self) { try GatewayConfig.parse(toml: "[keys.bob]\nkey_env = \"NOPE\"") }
        var noUpstream = GatewayConfig()
        noUpstream.upstream = nil
        #expect(throws: GatewayConfigError.self) { try noUpstream.validate() }
    }
}

@Suite("Gateway usage parsing")
struct GatewayUsageTests {
    @Test("usage is read from the usage object alone, nested details included, in both namings")
    func usage() {
        let chat = #"{"id":"x","choices":[{"message":{"content":"a \"usage\": {} b"}}],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0}}}"#
        #expect(TokenUsage(responseBody: Array(chat.utf8)) == TokenUsage(input: 12, output: 30))
        let responses = #"{"object":"response","usage":{"input_tokens":5,"output_tokens":7,"output_tokens_details":{"reasoning_tokens":2}}}"#
        #expect(TokenUsage(responseBody: Array(responses.utf8)) == TokenUsage(input: 5, output: 7))
        #expect(TokenUsage(responseBody: Array(#"{"usage":null}"#.utf8)) == nil)
    }
}

@Suite("Gateway documentation")
struct GatewayDocsTests {
    @Test("the configuration example in docs/serve.md parses and validates")
    func docsExample() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/serve.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "```toml\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let c = try GatewayConfig.parse(toml: String(text[start.upperBound..<end.lowerBound]), environment: ["ALICE_KEY": "sk-alice"])
        try c.validate()
        #expect(c.keys.first?.name == "alice")
        #expect(c.maxWait == .seconds(2))
    }
}

@Suite("Gateway Anthropic usage")
struct GatewayAnthropicTests {
    @Test("Anthropic streams: input from message_start, output from message_delta")
    func anthropicStream() {
        let stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        var filter = SSEUsageFilter(dropUsageChunk: false)
        var out = ""
        if let b = filter.feed(ByteBuffer(string: stream)) { out += String(buffer: b) }
        #expect(filter.usage == TokenUsage(input: 25, output: 15))
        #expect(out == stream)
    }
}

@Suite("Gateway listen addresses")
struct ListenAddressTests {
    @Test("HOST:PORT, [IPv6]:PORT and a bare port; bad ones named")
    func parse() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(try ListenAddress(parsing: "[::1]:0") == ListenAddress(host: "::1", port: 0))
        #expect(try ListenAddress(parsing: "9000") == ListenAddress(host: "127.0.0.1", port: 9000))
        #expect(ListenAddress(host: "::1", port: 5).description == "[::1]:5")
        for bad in ["127.0.0.1:99999", "host:", ":80", "[::1]80", "x"] {
            #expect(throws: GatewayConfigError.self) { try ListenAddress(parsing: bad) }
        }
    }
}
