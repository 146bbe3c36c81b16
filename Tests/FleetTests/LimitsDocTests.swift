import Foundation
import Testing
@testable import Fleet

/// docs/limits.md states the ranges `InputLimits` enforces: each range's own description is on
/// the page, so changing one without the other fails here.
@Suite struct LimitsDocTests {
    @Test func theLimitsPageStatesEveryRange() throws {
        let page = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/limits.md"), encoding: .utf8)
        for range in [InputLimits.capacity, InputLimits.refill, InputLimits.clientRate, InputLimits.cost, InputLimits.perMinute,
                      InputLimits.ttft, InputLimits.tokensPerSecond] {
            #expect(page.contains(range.description), "\(range)")
        }
        for range in [InputLimits.runDuration, InputLimits.tuningWindow] { #expect(page.contains(range.description), "\(range)") }
        #expect(page.contains("\(InputLimits.onPeriod.description), and rate × on ≥ \(NumberText.format(InputLimits.minimumRequestsPerOnPeriod))"))
        #expect(page.contains("\(InputLimits.clientCount) per table; \(NumberText.grouped(InputLimits.totalClients)) clients in all"))
        #expect(page.contains("\(InputLimits.concurrency) per client; \(NumberText.grouped(InputLimits.totalConcurrency)) outstanding in all "
                              + "(\(NumberText.grouped(InputLimits.totalConcurrencyLive)) with `--live`)"))
        #expect(page.contains("\(InputLimits.retries)"))
        #expect(page.contains("an estimated \(NumberText.approximate(InputLimits.requestBudget))"))
        #expect(page.contains("`count` \(InputLimits.replicaCount); `store_rtt` \(InputLimits.storeRoundTrip); `store_ops_per_s` "
                              + "\(InputLimits.storeOpsPerSecond); `clock_skew` \(InputLimits.clockSkew)"))
        #expect(page.contains("| local buckets of all replicas | \(NumberText.grouped(InputLimits.replicaKeys)) "))
    }
}
