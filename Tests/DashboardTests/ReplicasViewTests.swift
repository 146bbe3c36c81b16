import Dashboard
import Fleet
import Foundation
import Testing

/// The replicas view: the built-in `replicas` scenario's screen, and what it says for each
/// kind of bucket.
@Suite struct ReplicasViewTests {
    /// The built-in `replicas` scenario (key-hash, seed 1) with `buckets`, after 30 simulated seconds.
    static func snapshot(_ buckets: ReplicaSpec.Buckets) throws -> FleetSnapshot {
        let fleet = try makeFleet(FleetOptions(scenario: "replicas", seed: 1, replicaBuckets: buckets))
        for _ in 0..<300 { fleet.advance(by: 100_000_000) }
        return fleet.snapshot()
    }

    @Test func localFullBucketsAt120x40() throws {
        let grid = DashboardView.render(DashboardState(), try Self.snapshot(.localFull), width: 120, height: 40)
        try GoldenTests().check("replicas-local-full-120x40.txt", grid)
        let text = grid.lines.joined(separator: "\n")
        #expect(grid.lines[0].contains("3 replicas local-full ×2.9"))
        #expect(text.contains("3 replicas · key-hash · local-full"))
        #expect(text.contains("store none (local buckets)"))
    }

    @Test func aSharedStoreShowsItsLoadAndLatency() throws {
        let grid = DashboardView.render(DashboardState(), try Self.snapshot(.shared), width: 120, height: 40)
        let text = grid.lines.joined(separator: "\n")
        #expect(grid.lines[0].contains("3 replicas shared ×1"))
        #expect(text.contains("/s of 50k  +1ms p99"))
    }

    @Test func withoutReplicasNothingChanges() throws {
        let snapshot = try GoldenTests.defaultScenarioSnapshot()
        #expect(snapshot.replicas == nil)
        let text = DashboardView.render(DashboardState(), snapshot, width: 120, height: 40).lines.joined(separator: "\n")
        #expect(!text.contains("replicas"))
    }
}
