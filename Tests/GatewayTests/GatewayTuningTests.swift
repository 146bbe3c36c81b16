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
        // Gateway: burst 100 at 50/s, far above the mock's 30 RPM (a bucket of 30, 1 per 2 s).
        var c = testConfig(capacity: 100, refill: 50)
        // Half-second windows; halve on 429s, double back (capped at the configured refill).
        c.tuning = TuningSpec(window: 500_000_000, threshold: 0.01, cut: 0.5, raise: 1)
        try await GatewayHarness.with(c, mock: MockUpstreamConfiguration(requestsPerMinute: 30)) { h in
            let tuner = try #require(h.server.responder.metrics.tuner)
            let limits = h.server.responder.limits
            // 40 at once against the mock's 30: at least 10 429s however slow the machine is
            // (the mock refills one request per 2 s).
            let statuses = try await withThrowingTaskGroup(of: Int.self) { g in
                for _ in 0..<40 {
                    g.addTask { try await h.request(.POST, "/v1/chat/completions", body: GatewayHarness.chat(maxTokens: 5)).status }
                }
                return try await g.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(statuses[429, default: 0] >= 5, "the mock answered \(statuses)")
            // The window holding the 429s ends within 0.5 s; it is judged then.
            try await Task.sleep(for: .milliseconds(600))
            tuner.tick()
            #expect(tuner.factor <= 0.5)
            #expect((limits.spec(bucket: "any").refill ?? 50) <= 25)

            // Answers without 429s: `GET /v1/models` passes through and the mock answers it
            // outside its limits. The raise waits for the mock's Retry-After (at most 2 s).
            for _ in 0..<20 where tuner.factor < 1 {
                #expect(try await h.request(.GET, "/v1/models").status == 200)
                try await Task.sleep(for: .milliseconds(600))
                tuner.tick()
            }
            #expect(tuner.factor == 1)
            #expect(abs((limits.spec(bucket: "any").refill ?? 0) - 50) < 1e-9)
            #expect(tuner.lastMove?.move.isCut == false)
        }
    }
}
