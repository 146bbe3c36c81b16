import AsyncHTTPClient
import Foundation
@testable import Gateway
import NIOCore
import Testing

/// `GET /metrics`: every per-key series the issue names, read from the exposition text.
@Suite("Gateway metrics (real time)", .serialized)
struct GatewayMetricsTests {
    static let key = ClientKey.fingerprint("sk-test-key")

    /// The value of the sample line `name{labels}`, nil when absent.
    static func sample(_ text: String, _ name: String, _ labels: String) -> Double? {
        let prefix = "\(name){\(labels)} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    @Test("per key: admitted, limited, estimated, reconciled, the wait histogram and the upstream's status codes")
    func perKey() async throws {
        // Burst 2, no refill to speak of: 3 requests, 2 admitted, 1 limited by the gateway. The
        // mock's 1 RPM answers the second admitted one with its own 429.
        try await GatewayHarness.with(testConfig(capacity: 2, refill: 0.001),
                                      mock: MockUpstreamConfiguration(requestsPerMinute: 1)) { h in
            for _ in 0..<3 {
                _ = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 10),
                                        headers: [("x-mock-completion-tokens", "5")])
            }
            let m = try await h.request(.GET, "/metrics", key: nil).body
            let k = "key=\"\(Self.key)\""
            #expect(Self.sample(m, "bucketscope_gateway_admitted_total", k) == 2)
            #expect(Self.sample(m, "bucketscope_gateway_limited_total", k) == 1)
            #expect(Self.sample(m, "bucketscope_gateway_waiting", k) == 0)
            #expect(Self.sample(m, "bucketscope_gateway_admission_wait_seconds_count", k) == 2)
            #expect(Self.sample(m, "bucketscope_gateway_tokens_estimated_total", k) == 34)    // 2 × (7 + 10)
            #expect(Self.sample(m, "bucketscope_gateway_tokens_reconciled_total", k) == 12)   // 7 + 5, the 200 only
            #expect(Self.sample(m, "bucketscope_gateway_upstream_limited_total", k) == 1)
            #expect(Self.sample(m, "bucketscope_gateway_upstream_responses_by_key_total", "\(k),status=\"200\"") == 1)
            #expect(Self.sample(m, "bucketscope_gateway_upstream_responses_by_key_total", "\(k),status=\"429\"") == 1)
            #expect(Self.sample(m, "bucketscope_gateway_upstream_responses_total", "status=\"429\"") == 1)
        }
    }

    @Test("waiting counts a request waiting now; the histogram puts the waiting request above 0.25 s")
    func waitingAndHistogram() async throws {
        // Burst 1 at 0.5/s, waits up to 10 s: the second request waits about 2 s (less the
        // first one's round trip, however slow the machine).
        try await GatewayHarness.with(testConfig(capacity: 1, refill: 0.5, maxWait: .seconds(10))) { h in
            #expect(try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 10)).status == 200)
            async let second = h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 10))
            let k = "key=\"\(Self.key)\""
            var seen = false
            for _ in 0..<100 where !seen {
                let m = try await h.request(.GET, "/metrics", key: nil).body
                seen = Self.sample(m, "bucketscope_gateway_waiting", k) == 1
                if !seen { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(seen, "the waiting request never showed in bucketscope_gateway_waiting")
            #expect(try await second.status == 200)
            let m = try await h.request(.GET, "/metrics", key: nil).body
            #expect(Self.sample(m, "bucketscope_gateway_waiting", k) == 0)
            #expect(Self.sample(m, "bucketscope_gateway_admission_wait_seconds_count", k) == 2)
            #expect(Self.sample(m, "bucketscope_gateway_admission_wait_seconds_bucket", "\(k),le=\"0.25\"") == 1)
            #expect(Self.sample(m, "bucketscope_gateway_admission_wait_seconds_bucket", "\(k),le=\"+Inf\"") == 2)
            #expect((Self.sample(m, "bucketscope_gateway_admission_wait_seconds_sum", k) ?? 0) > 0.25)
        }
    }
}
