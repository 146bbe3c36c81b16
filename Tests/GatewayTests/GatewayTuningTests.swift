import AsyncHTTPClient
import Fleet
import Foundation
@testable import Gateway
import NIOCore
import Testing

/// `[tuning]` on a running gateway: the mock upstream's own low RPM answers 429, the rule cuts
/// every request refill, and after windows without 429s it raises it back.
@Suite("Gateway tuning (real time)", .serialized)
struct GatewayTuningTests {
    @Test("upstream 429s cut the refill; windows without them bring it back to the configured refill")
    func cutAndRecover() async throws {
        // Gateway: burst 100 at 50/s, far above the mock's 60 RPM (a bucket of 60, 1 per second).
        var c = testConfig(capacity: 100, refill: 50)
        // Half-second windows; halve on 429s, double back (capped at the configured refill).
        c.tuning = TuningSpec(window: 500_000_000, threshold: 0.01, cut: 0.5, raise: 1)
        try await GatewayHarness.with(c, mock: MockUpstreamConfiguration(requestsPerMinute: 60)) { h in
            let tuner = try #require(h.server.responder.metrics.tuner)
            let limits = h.server.responder.limits
            var statuses: [Int: Int] = [:]
            for _ in 0..<70 {
                let r = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 5))
                statuses[r.status, default: 0] += 1
                if statuses[429, default: 0] >= 5 { break }
            }
            #expect(statuses[429, default: 0] >= 5, "the mock never answered 429: \(statuses)")
            // The window holding the 429s ends within 0.5 s; it is judged then.
            try await Task.sleep(for: .milliseconds(600))
            tuner.tick()
            #expect(tuner.factor <= 0.5)
            #expect((limits.spec(bucket: "any").refill ?? 50) <= 25)

            // The mock refills 1 request per second: one request every 1.1 s is always answered 200.
            for _ in 0..<6 where tuner.factor < 1 {
                try await Task.sleep(for: .milliseconds(1_100))
                tuner.tick()
                if tuner.factor == 1 { break }
                let r = try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 5))
                #expect(r.status == 200)
            }
            #expect(tuner.factor == 1)
            #expect(abs((limits.spec(bucket: "any").refill ?? 0) - 50) < 1e-9)
            #expect(tuner.lastMove?.move.isCut == false)
        }
    }
}
