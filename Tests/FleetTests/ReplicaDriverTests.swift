import Foundation
import Testing
@testable import Fleet
import TokenBucket

/// Replicas under the other drivers (what `run --live` and the live dashboard run): the fleet
/// core paced on a clock (`LiveFleet`) is the simulator's run (checked for every built-in under
/// every keying in `LiveFleetTests`); the task driver, whose library limiters do the waiting,
/// admits what the simulator admits, replica for replica.
@Suite struct ReplicaDriverTests {
    @Test(arguments: ReplicaSpec.Buckets.allCases)
    func tasksOnTheLibraryLimiterAgreeWithTheSimulator(buckets: ReplicaSpec.Buckets) async throws {
        var s = Scenario.named("replicas")!
        s.replicas?.buckets = buckets
        let (fleet, live, sr) = try await tasksAndSimulation(s)
        #expect(live.replicas?.replicas.map(\.admitted) == sr.replicas?.replicas.map(\.admitted))
        for (lg, sg) in zip(live.groups, sr.groups) {
            #expect(lg.admitted == sg.admitted, "\(buckets): tasks \(lg.admitted) sim \(sg.admitted)")
        }
        #expect(conservationFailures(fleet.metrics) == [])
        await fleet.stop()
        expectConserved(fleet)
    }
}

extension ReplicaDriverTests {
    @Test func aStoreOnTheReplicasClocksUnderTheTaskDriver() async throws {
        var s = Scenario.named("replicas")!
        s.replicas?.buckets = .shared
        s.replicas?.clockSkew = 200 * millisecond
        s.replicas?.storeClock = .replica
        let window = 10 * second
        let (fleet, _) = try taskFleet(s, window: window)
        await fleet.step(to: window)
        let live = fleet.report(duration: window, wallSeconds: 0)
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: window)
        #expect(live.replicas?.replicas.map(\.admitted) == sim.report().replicas?.replicas.map(\.admitted))
        #expect(live.replicas?.replicas[2].admitted ?? 0 > 10 * (live.replicas?.replicas[0].admitted ?? 0))
        // No conservation check here: a store on the replicas' clocks is the core's own model of
        // the store, which decides at once; no library limiter waits or takes tokens for it.
        await fleet.stop()
        #expect(fleet.waitingTasks == 0)
    }
}

/// `bucketscope run` with replicas, through the built executable. REAL TIME: one 500 ms run.
@Suite(.tags(.realTime))
struct ReplicaRunCommandTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: bucketscopeBinary.path),
                     "no executable at \(bucketscopeBinary.path): run `swift build` first")
    }

    @Test func runLiveRunsTheReplicasOnTheRealClock() async throws {
        let r = try await bucketscope(["run", "--live", "--scenario", "replicas", "--replicas-buckets", "shared",
                                       "--duration", "500ms", "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("\"mode\": \"live\""))
        #expect(r.out.contains("\"buckets\": \"shared\""))
    }

    @Test func theBucketsOverrideOnAScenarioWithoutReplicasIsOneLineAndStatus2() async throws {
        let r = try await bucketscope(["run", "--scenario", "burst", "--replicas-buckets", "shared"])
        #expect(r.status == 2)
        #expect(r.err.contains("--replicas-buckets: scenario \"burst\" has no [replicas] table"), "\(r.err)")
        let bad = try await bucketscope(["run", "--scenario", "replicas", "--replicas-buckets", "redis"])
        #expect(bad.status == 2)
        #expect(bad.err.contains("the value 'redis' is invalid for '--replicas-buckets"), "\(bad.err)")
    }
}
