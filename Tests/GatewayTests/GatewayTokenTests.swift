import AsyncHTTPClient
import Foundation
@testable import Gateway
import NIOCore
import Testing

@Suite("Gateway token limits (real time)", .serialized)
struct GatewayTokenTests {
    @Test("non-streamed usage reconciles the estimate: max_tokens 1000 but 10 used leaves the budget nearly full")
    func reconcileJSON() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 6_000)) { h in
            let a = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 1_000),
                                        headers: [("x-mock-completion-tokens", "10")])
            #expect(a.status == 200)
            let remaining = Int(a.header("x-ratelimit-remaining-tokens") ?? "") ?? -1
            // Prompt "Hello there" = 3 + 4 framing = 7 tokens; 17 used of 6,000.
            #expect(remaining >= 6_000 - 17 - 1 && remaining <= 6_000, "remaining \(remaining)")
            let m = try await h.request(.GET, "/metrics", key: nil)
            #expect(m.body.contains("bucketscope_gateway_tokens_reconciled_total{key=\"\(ClientKey.fingerprint("sk-test-key"))\"} 17"))
            #expect(m.body.contains("bucketscope_gateway_tokens_estimated_total{key=\"\(ClientKey.fingerprint("sk-test-key"))\"} 1007"))
        }
    }

    @Test("streams are enforced: usage asked upstream, hidden from a client that did not ask, and charged")
    func streamingTPM() async throws {
        // 600 tokens per minute (10/s). The stream reserves 7 + 100 but uses 7 + 400.
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 600)) { h in
            let start = ContinuousClock.now
            let s = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 100, stream: true),
                                        headers: [("x-mock-completion-tokens", "400")])
            #expect(s.status == 200)
            #expect(s.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(s.body.contains("data: [DONE]"))
            #expect(!s.body.contains("\"choices\":[]"), "the usage chunk reached a client that did not ask for it")
            #expect(!s.body.contains("\"usage\""))
            // 600 - 407 (+ a little refill) left: a request estimating 7 + 250 cannot pass now.
            // Without reconciliation 493 would be left and it would.
            let next = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 250))
            // Unless the machine stalled for 6.4 s since the stream began (64 tokens refilled).
            if ContinuousClock.now - start < .milliseconds(6_400) {
                #expect(next.status == 429)
                #expect(next.error?["type"] as? String == "tokens")
            }
        }
    }

    @Test("a client that asks for stream usage gets the usage chunk")
    func streamUsageKept() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 60_000)) { h in
            let s = try await h.request(.POST, "/v1/chat/completions",
                                        body: GatewayHarness.chat(maxTokens: 50, stream: true, includeUsage: true),
                                        headers: [("x-mock-completion-tokens", "20")])
            #expect(s.body.contains("\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":20"))
        }
    }

    @Test("embeddings and responses are counted with their own usage names")
    func otherRoutes() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 6_000)) { h in
            let e = try await h.request(.POST, "/v1/embeddings", body: #"{"model":"m","input":"abcdefgh"}"#)
            #expect(e.status == 200)
            #expect(e.body.contains("\"embedding\""))
            let r = try await h.request(.POST, "/v1/responses", body: #"{"model":"m","input":"hi","max_output_tokens":500}"#,
                                        headers: [("x-mock-completion-tokens", "5")])
            #expect(r.status == 200)
            let remaining = Int(r.header("x-ratelimit-remaining-tokens") ?? "") ?? -1
            // embeddings 2 tokens, responses 1 + 5: far less than the 501 reserved.
            #expect(remaining >= 6_000 - 2 - 6 - 1, "remaining \(remaining)")
        }
    }

    @Test("Anthropic's /v1/messages is counted: max_tokens reserved, usage reconciled, x-api-key accepted")
    func anthropicMessages() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 6_000)) { h in
            let a = try await h.request(.POST, "/v1/messages", key: nil,
                                        body: #"{"model":"claude","max_tokens":2000,"system":"Be brief.","messages":[{"role":"user","content":"Hello there"}]}"#,
                                        headers: [("x-api-key", "sk-ant-test"), ("x-mock-completion-tokens", "9")])
            #expect(a.status == 200)
            #expect(a.body.contains("\"output_tokens\":9"))
            let remaining = Int(a.header("x-ratelimit-remaining-tokens") ?? "") ?? -1
            // 3 + 3 + 4 = 10 prompt tokens, 9 out: 19 used, not the 2,010 reserved.
            #expect(remaining >= 6_000 - 19 - 1, "remaining \(remaining)")
        }
    }

    @Test("upstream 429 is passed through with its retry-after; the reservation's tokens come back")
    func upstream429() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 6_000),
                                      mock: MockUpstreamConfiguration(requestsPerMinute: 1)) { h in
            #expect(try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 10)).status == 200)
            let a = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 1_000))
            #expect(a.status == 429)
            #expect(a.header("retry-after") != nil)
            #expect((Int(a.header("x-ratelimit-remaining-tokens") ?? "") ?? 0) >= 6_000 - 20)
            let m = try await h.request(.GET, "/metrics", key: nil)
            #expect(m.body.contains("bucketscope_gateway_upstream_responses_total{status=\"429\"} 1"))
        }
    }
}
