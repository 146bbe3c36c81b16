import AsyncHTTPClient
import Foundation
@testable import Gateway
import NIOCore
import Testing

/// Every counted route through `serve --mock`, in JSON and stream form: the mock answers as the
/// real API does, and the gateway reads each answer's usage and reconciles its reservation.
@Suite("Gateway routes through the mock (real time)", .serialized)
struct GatewayRouteTests {
    static let key = ClientKey.fingerprint("sk-test-key")
    /// Prompt and completion tokens the mock is told to report.
    static let fixed = [("x-mock-prompt-tokens", "12"), ("x-mock-completion-tokens", "20")]

    /// The key's `tokens_reconciled_total`.
    static func reconciled(_ h: GatewayHarness) async throws -> Int? {
        let m = try await h.request(.GET, "/metrics", key: nil)
        let prefix = "bucketscope_gateway_tokens_reconciled_total{key=\"\(key)\"} "
        return m.body.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }

    /// The `event:` names and `data:` payloads of an SSE body.
    static func events(_ body: String) -> [(name: String?, data: String)] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var name: String?
            var data: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            return data.map { (name, $0) }
        }
    }

    static func object(_ text: String) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
    }

    @Test("/v1/completions JSON: a text_completion with usage, reconciled")
    func completionsJSON() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10)) { h in
            let a = try await h.request(.POST, "/v1/completions", body: #"{"model":"m","prompt":"Hello","max_tokens":100}"#,
                                        headers: Self.fixed)
            #expect(a.status == 200)
            let o = Self.object(a.body)
            #expect(o["object"] as? String == "text_completion")
            #expect((o["usage"] as? [String: Any])?["total_tokens"] as? Int == 32)
            #expect(try await Self.reconciled(h) == 32)
        }
    }

    @Test("/v1/completions stream: text_completion chunks, usage read upstream and hidden from a client that did not ask")
    func completionsStream() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10)) { h in
            let s = try await h.request(.POST, "/v1/completions", body: #"{"model":"m","prompt":"Hello","max_tokens":100,"stream":true}"#,
                                        headers: Self.fixed)
            #expect(s.header("content-type")?.hasPrefix("text/event-stream") == true)
            let events = Self.events(s.body)
            #expect(events.last?.data == "[DONE]")
            let chunks = events.dropLast().map { Self.object($0.data) }
            #expect(chunks.count == 4)   // 20 tokens in pieces of 8, and the finish chunk
            #expect(chunks.allSatisfy { $0["object"] as? String == "text_completion" })
            let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["text"] as? String) }.joined()
            #expect(text.split(separator: " ").count == 20)
            #expect(!s.body.contains("\"usage\""))
            #expect(try await Self.reconciled(h) == 32)

            let asked = try await h.request(.POST, "/v1/completions",
                                            body: #"{"model":"m","prompt":"Hello","stream":true,"stream_options":{"include_usage":true}}"#,
                                            headers: Self.fixed)
            let usage = Self.events(asked.body).dropLast().last.map { Self.object($0.data)["usage"] as? [String: Any] } ?? nil
            #expect(usage?["prompt_tokens"] as? Int == 12 && usage?["completion_tokens"] as? Int == 20)
            #expect(try await Self.reconciled(h) == 64)
        }
    }

    @Test("/v1/responses JSON: usage in input_tokens and output_tokens, reconciled")
    func responsesJSON() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10)) { h in
            let a = try await h.request(.POST, "/v1/responses", body: #"{"model":"m","input":"hi","max_output_tokens":500}"#,
                                        headers: Self.fixed)
            let usage = Self.object(a.body)["usage"] as? [String: Any]
            #expect(usage?["input_tokens"] as? Int == 12 && usage?["output_tokens"] as? Int == 20 && usage?["total_tokens"] as? Int == 32)
            #expect(try await Self.reconciled(h) == 32)
        }
    }

    @Test("/v1/responses stream: the API's events in order, text in output_text deltas, usage in response.completed, reconciled")
    func responsesStream() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10)) { h in
            let s = try await h.request(.POST, "/v1/responses", body: #"{"model":"m","input":"hi","max_output_tokens":500,"stream":true}"#,
                                        headers: Self.fixed)
            #expect(s.status == 200)
            let events = Self.events(s.body)
            #expect(events.map(\.name) == ["response.created", "response.in_progress", "response.output_item.added",
                                           "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                                           "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                                           "response.output_item.done", "response.completed"])
            let payloads = events.map { Self.object($0.data) }
            #expect(zip(events, payloads).allSatisfy { $0.name == $1["type"] as? String })
            #expect(payloads.map { $0["sequence_number"] as? Int } == Array(0..<11))
            let text = payloads.compactMap { $0["delta"] as? String }.joined()
            #expect(text == payloads[7]["text"] as? String && text.split(separator: " ").count == 20)
            let usage = (payloads.last?["response"] as? [String: Any])?["usage"] as? [String: Any]
            #expect(usage?["input_tokens"] as? Int == 12 && usage?["output_tokens"] as? Int == 20)
            #expect(!s.body.contains("[DONE]"))
            #expect(try await Self.reconciled(h) == 32)
        }
    }

    @Test("a responses stream's tokens are enforced: 7 + 100 reserved, 407 used, the next 257 cannot pass")
    func responsesStreamTPM() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10, tpm: 600)) { h in
            let s = try await h.request(.POST, "/v1/responses", body: #"{"model":"m","input":"hi","max_output_tokens":100,"stream":true}"#,
                                        headers: [("x-mock-prompt-tokens", "7"), ("x-mock-completion-tokens", "400")])
            #expect(s.status == 200)
            let next = try await h.request(.POST, "/v1/responses", body: #"{"model":"m","input":"hi","max_output_tokens":250}"#)
            #expect(next.status == 429)
            #expect(next.error?["type"] as? String == "tokens")
        }
    }

    @Test("/v1/messages stream (Anthropic): message_start with input tokens, deltas, message_delta with output tokens, reconciled")
    func messagesStream() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10)) { h in
            let s = try await h.request(.POST, "/v1/messages", key: nil,
                                        body: #"{"model":"claude","max_tokens":300,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#,
                                        headers: [("x-api-key", "sk-test-key")] + Self.fixed)
            let names = Self.events(s.body).map(\.name)
            #expect(names.first == "message_start" && names.last == "message_stop")
            #expect(names.filter { $0 == "content_block_delta" }.count == 3)
            #expect(names.contains("message_delta"))
            #expect(try await Self.reconciled(h) == 32)
        }
    }

    @Test("/v1/embeddings: JSON (also when asked to stream), usage in prompt_tokens, reconciled")
    func embeddings() async throws {
        try await GatewayHarness.with(testConfig(capacity: 10, refill: 10)) { h in
            for body in [#"{"model":"m","input":"abcdefgh"}"#, #"{"model":"m","input":"abcdefgh","stream":true}"#] {
                let a = try await h.request(.POST, "/v1/embeddings", body: body, headers: Self.fixed)
                #expect(a.header("content-type") == "application/json")
                let o = Self.object(a.body)
                #expect(o["object"] as? String == "list")
                let usage = o["usage"] as? [String: Any]
                #expect(usage?["prompt_tokens"] as? Int == 12 && usage?["total_tokens"] as? Int == 12)
            }
            #expect(try await Self.reconciled(h) == 24)
        }
    }
}
