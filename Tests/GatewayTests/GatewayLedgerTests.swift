import AsyncHTTPClient
import Fleet
import Foundation
@testable import Gateway
import NIOCore
import Testing

/// The dashboard's driver following a running gateway: every request the proxy handles, by any
/// path, is opened and closed in the fleet's ledger.
@Suite("Gateway dashboard driver over real requests (real time)", .serialized)
struct GatewayLedgerTests {
    @Test("30 parallel requests under 3 keys (JSON, streams, gateway 429s, upstream 429s): all closed in the ledger, counts conserved")
    func everyPathCloses() async throws {
        // Burst 5 per key, refill 1 per 100 s, waits up to 50 ms: 15 admitted (a few more if the machine is very slow), the rest limited.
        try await GatewayHarness.with(testConfig(capacity: 5, refill: 0.01, maxWait: .milliseconds(50)),
                                      mock: MockUpstreamConfiguration(requestsPerMinute: 8)) { h in
            let driver = GatewayFleetDriver<ContinuousClock>(server: h.server, port: h.port)
            defer { driver.shutdown() }
            try await withThrowingTaskGroup(of: Void.self) { g in
                for i in 0..<30 {
                    g.addTask {
                        let stream = i % 2 == 0
                        _ = try await h.request(.POST, "/v1/chat/completions", key: "sk-\(i % 3)",
                                                body: GatewayHarness.chat(maxTokens: 20, stream: stream),
                                                headers: [("x-mock-completion-tokens", "10")])
                    }
                }
                try await g.waitForAll()
            }
            // The last stream's body may close a moment after the client has read it.
            var report = try #require(driver.reportSoFar())
            for _ in 0..<100 where report.upstream.completed + report.upstream.failed < report.keys.reduce(0, { $0 + $1.admitted }) {
                try await Task.sleep(for: .milliseconds(10))
                report = try #require(driver.reportSoFar())
            }
            let s = driver.snapshot()
            #expect(s.keys.count == 3)
            #expect(s.keys.reduce(0) { $0 + $1.requests } == 30)
            #expect(s.keys.allSatisfy { $0.waiters == 0 && $0.oldestWaitSeconds == 0 })
            #expect(s.keys.allSatisfy { $0.requests == $0.admitted + $0.rejected + $0.timedOut })
            let admitted = s.keys.reduce(0) { $0 + $1.admitted }
            #expect(admitted >= 15 && admitted < 30)
            #expect(s.upstream.inFlight == 0)
            #expect(s.upstream.requests == admitted)
            #expect(s.upstream.status429 > 0)   // the mock's 8 RPM
            #expect(report.upstream.completed + report.upstream.failed == admitted)
            #expect(report.upstream.failed == s.upstream.status429)
            #expect(s.upstream.tokensLastMinute > 0)
            let metrics = h.server.responder.metrics.stats()
            #expect(metrics.values.reduce(0) { $0 + $1.admitted } == admitted)
        }
    }
}
