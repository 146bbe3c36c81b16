import Foundation
import Testing
@testable import Fleet
import TokenBucket

// Live mode on the real clock. Every test here runs in real time (tag `realTime`), each for
// about a second or less, one at a time; figures use margins a loaded 2-core machine keeps.

extension Tag {
    /// Runs on the real `ContinuousClock`: takes wall time and depends on the scheduler.
    @Tag static var realTime: Self
}

/// Every live-fleet test on the real clock, run one at a time: they measure time, and one
/// test's thousands of tasks (or the library cancelling them) would make another's late.
@Suite(.serialized, .tags(.realTime)) struct LiveRealTime {}

/// The bucket's level as its admissions alone predict it: a full bucket of the same
/// configuration taking each admitted cost at its admission instant, read at `t` (an offset
/// from the bucket's origin). Equal to the live bucket's level exactly when every reservation
/// that was not admitted (cancelled at shutdown) was given back, neither lost nor created.
func replayedBalance(_ key: LiveKey, at t: Duration) -> Double {
    var state = BucketState(key.bucket.configuration)
    for a in key.ledger.withLock({ $0.admissions }).sorted(by: { $0.at < $1.at }) {
        _ = state.reserve(units: a.units, at: a.at)
    }
    return state.balance(at: LiveClock.nanoseconds(t))
}

/// After shutdown: nobody waits, and the level is what the admissions predict.
func expectTokensConserved(_ fleet: LiveFleet, sourceLocation: SourceLocation = #_sourceLocation) {
    for k in fleet.allKeys {
        let s = k.bucket.snapshot()
        #expect(s.waiters == 0 && s.queuedCost == 0, "\(k.name): \(s)", sourceLocation: sourceLocation)
        let replayed = replayedBalance(k, at: s.at)
        #expect(abs(s.balance - replayed) < 1e-9, "\(k.name): balance \(s.balance), admissions predict \(replayed)",
                sourceLocation: sourceLocation)
    }
}

/// Sleeps until `t` nanoseconds of the fleet's time.
func sleep(_ fleet: LiveFleet, until t: Int64) async {
    try? await Task.sleep(until: fleet.startedAt.advanced(by: .nanoseconds(t)), clock: .continuous)
}

/// `shutdown()` as the dashboard calls it: from a thread of its own (it blocks until done).
func shutdownFromAThread(_ fleet: LiveFleet) async {
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread { fleet.shutdown(); c.resume() }
    }
}

/// One closed-loop client of `concurrency` on one shared bucket, an instant upstream.
func saturating(concurrency: Int, capacity: Double, refill: Double) -> Scenario {
    Scenario(name: "saturating", keying: .shared,
             limits: ClientLimits(shared: BucketSpec(capacity: capacity, refillPerSecond: refill)),
             clients: [ClientSpec(name: "loop", group: "loop", arrival: .closedLoop(concurrency: concurrency, think: 0))],
             upstream: UpstreamSpec(ttft: 0.001...0.002))
}

func sum(_ r: FleetReport, _ field: KeyPath<FleetReport.Group, Int>) -> Int { r.groups.reduce(0) { $0 + $1[keyPath: field] } }

extension LiveRealTime { @Suite struct Runs {
    @Test func aLiveRunReportsModeLiveAndAccountsForEveryRequestUnderEveryKeying() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for keying in Keying.allCases { group.addTask { try await runReportsModeLive(keying) } }
            try await group.waitForAll()
        }
    }

    func runReportsModeLive(_ keying: Keying) async throws {
        var s = Scenario.named("noisy-neighbor")!
        s.keying = keying
        let fleet = try LiveFleet(scenario: s, seed: 1, window: 1 * second)
        #expect(fleet.mode == .live)
        await sleep(fleet, until: 500 * millisecond)
        // While running: requests = admitted + rejected + timed out + moved + waiting, per key.
        #expect(conservationFailures(fleet.metrics) == [])
        #expect(fleet.snapshot().mode == .live)
        await sleep(fleet, until: 1_100 * millisecond)
        await fleet.stop()
        let r = fleet.report()
        #expect(r.mode == .live)
        #expect(r.durationSeconds == 1)
        #expect(r.json().contains("\"mode\": \"live\""))
        #expect(conservationFailures(fleet.metrics) == [])
        // The noisy client's 100 requests are all in (10 admitted at once, the rest waiting).
        #expect(sum(r, \.requests) >= 100)
        #expect(sum(r, \.admitted) >= 10)
        let waiting = r.keys.reduce(0) { $0 + $1.waiting }
        #expect(waiting > 0)
    }

    @Test func groupsShowTheirWaitingRequestsAndTheOldestWait() async throws {
        let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!)
        await sleep(fleet, until: 300 * millisecond)
        let s = fleet.snapshot()
        let noisy = try #require(s.groups.first { $0.name == "noisy" })
        // 100 sent in the first 10 ms, 10 admitted at once: 90 waiting for about 0.3 s.
        #expect(noisy.waiting == 90)
        #expect(noisy.oldestWaitSeconds > 0.25 && noisy.oldestWaitSeconds < 0.35)
        #expect(noisy.waiting == s.keys.first { $0.key == "noisy" }?.waiters)
        await fleet.stop()
        #expect(fleet.snapshot().groups.allSatisfy { $0.waiting == 0 })
    }

    @Test func makeLiveFleetGivesADriverInLiveModeThatIgnoresAdvance() async throws {
        let driver = try makeLiveFleet(FleetOptions(scenario: "burst", seed: 3))
        #expect(driver.mode == .live)
        #expect(driver.scenarioName == "burst")
        driver.advance(by: 3_600 * second)   // no effect: real time runs
        let s = driver.snapshot()
        #expect(s.now < 1 * second)
        #expect(s.keys.map(\.key) == ["steady-1", "steady-2", "steady-3", "bursty-1", "bursty-2"])
        await shutdownFromAThread(driver as! LiveFleet)
    }
} }

extension LiveRealTime { @Suite struct Controls {
    @Test func refillAndCapacityChangesShowInTheNextSnapshotAndReplanWaiters() async throws {
        // 50 senders on a bucket of 5 refilling 1/s: 5 admitted at once, 45 waiting for 45 s.
        let fleet = try LiveFleet(scenario: saturating(concurrency: 50, capacity: 5, refill: 1))
        await sleep(fleet, until: 300 * millisecond)
        let before = fleet.snapshot().keys[0]
        #expect(before.waiters >= 40)
        #expect(before.admitted <= 6)
        try fleet.apply(.setRefill(200, key: nil))
        try fleet.apply(.setCapacity(8, key: "shared"))
        let after = fleet.snapshot()
        #expect(after.keys[0].refillPerSecond == 200)
        #expect(after.keys[0].capacity == 8)
        #expect(after.lastChange?.summary == "capacity shared 5 → 8")
        // Re-planned at 200/s, the 45 waiters are admitted within about a quarter second.
        await sleep(fleet, until: 800 * millisecond)
        #expect(fleet.snapshot().keys[0].admitted >= 45)
        await fleet.stop()
        #expect(conservationFailures(fleet.metrics) == [])
    }

    @Test func badValuesThrowAndChangeNothing() async throws {
        let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!)
        #expect(throws: BucketError.self) { try fleet.apply(.setRefill(-1, key: nil)) }
        #expect(throws: FleetError.self) { try fleet.apply(.setCapacity(5, key: "nobody")) }
        #expect(throws: FleetError.self) { try fleet.apply(.applyPreset("nope")) }
        #expect(fleet.snapshot().keys.allSatisfy { $0.capacity == 10 && $0.refillPerSecond == 2 })
        await fleet.stop()
    }

    @Test func aKeyingSwitchRoutesNewRequestsAndLetsWaitersFinishWhereTheyQueued() async throws {
        let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!)
        await sleep(fleet, until: 200 * millisecond)
        let noisyBefore = try #require(fleet.snapshot().keys.first { $0.key == "noisy" })
        #expect(noisyBefore.waiters >= 80)
        try fleet.apply(.setKeying(.shared))
        let s = fleet.snapshot()
        #expect(s.keying == .shared)
        #expect(s.keys.map(\.key) == ["shared"])
        #expect(s.lastChange?.summary == "keying per-user → shared")
        await sleep(fleet, until: 1_400 * millisecond)
        // The old noisy bucket keeps admitting its own waiters (2/s), parked.
        let parkedNoisy = try #require(fleet.allKeys.first { $0.name == "noisy" })
        #expect(parkedNoisy.bucket.snapshot().waiters < noisyBefore.waiters)
        #expect(fleet.metrics.keys.first { $0.name == "noisy" }!.admitted >= 11)
        // Noisy requests sent after the switch (answered ones loop round) queue on "shared".
        #expect(fleet.snapshot().keys[0].requests > 0)
        await fleet.stop()
        #expect(conservationFailures(fleet.metrics) == [])
    }

    @Test func noisyOffStopsNewNoisyRequestsAndOnStartsThemAgain() async throws {
        let s = Scenario(name: "noisy-toggle", limits: ClientLimits(perUser: BucketSpec(capacity: 1_000, refillPerSecond: 1_000)),
                         clients: [ClientSpec(name: "quiet", group: "quiet", arrival: .poisson(rate: 40)),
                                   ClientSpec(name: "noisy", group: "noisy", arrival: .poisson(rate: 100), noisy: true)],
                         upstream: UpstreamSpec(ttft: 0.001...0.002))
        let fleet = try LiveFleet(scenario: s)
        await sleep(fleet, until: 300 * millisecond)
        try fleet.apply(.setNoisy(false))
        #expect(fleet.snapshot().noisyEnabled == false)
        let off = fleet.snapshot().groups
        await sleep(fleet, until: 700 * millisecond)
        let later = fleet.snapshot().groups
        #expect(later[1].requests == off[1].requests)
        #expect(later[0].requests > off[0].requests)
        try fleet.apply(.setNoisy(true))
        await sleep(fleet, until: 1_000 * millisecond)
        #expect(fleet.snapshot().groups[1].requests > later[1].requests)
        await fleet.stop()
    }

    @Test func pauseStopsArrivalsWhileWaitersAreStillAdmitted() async throws {
        // 20 senders on a bucket of 2 refilling 10/s: about 18 always waiting.
        let fleet = try LiveFleet(scenario: saturating(concurrency: 20, capacity: 2, refill: 10))
        await sleep(fleet, until: 300 * millisecond)
        fleet.setPaused(true)
        await sleep(fleet, until: 350 * millisecond)   // requests already past the gate arrive
        let paused = fleet.snapshot().keys[0]
        #expect(paused.waiters >= 10)
        await sleep(fleet, until: 950 * millisecond)
        let later = fleet.snapshot().keys[0]
        #expect(later.requests == paused.requests)        // nothing new sent
        #expect(later.admitted >= paused.admitted + 4)     // 10/s kept admitting the waiters
        fleet.setPaused(false)
        await sleep(fleet, until: 1_300 * millisecond)
        #expect(fleet.snapshot().keys[0].requests > later.requests)
        await fleet.stop()
        #expect(conservationFailures(fleet.metrics) == [])
    }

    @Test func aPresetSizesTheBucketsAt80PercentOfTheProvider() async throws {
        let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!)
        try fleet.apply(.applyPreset("openai-gpt-4o-tier1"))   // 500 RPM × 0.8 = 400/min over 5 keys
        let s = fleet.snapshot()
        #expect(s.keys.allSatisfy { abs($0.refillPerSecond - 400.0 / 60 / 5) < 1e-9 && $0.capacity == 80 })
        #expect(s.upstream.requestsPerMinute == 500)
        await fleet.stop()
    }
} }

extension LiveRealTime { @Suite struct Shutdown {
    @Test func shutdownLeavesNoTaskAndGivesEveryWaitersTokensBack() async throws {
        // 200 senders on one bucket of 5 refilling 50/s: 175 or so waiting when it stops.
        let fleet = try LiveFleet(scenario: saturating(concurrency: 200, capacity: 5, refill: 50), seed: 1, window: nil,
                                  auditing: true)
        await sleep(fleet, until: 500 * millisecond)
        #expect(fleet.runningTasks > 200)
        #expect(fleet.snapshot().keys[0].waiters > 150)
        await shutdownFromAThread(fleet)
        #expect(fleet.runningTasks == 0)
        expectTokensConserved(fleet)
        #expect(fleet.allKeys[0].ledger.withLock { $0.admissions.count } >= 25)
    }

    @Test func tenThousandWaitingTasksAllStopAndGiveTheirTokensBack() async throws {
        let fleet = try LiveFleet(scenario: saturating(concurrency: 10_000, capacity: 100, refill: 1_000), seed: 1,
                                  window: nil, auditing: true)
        await sleep(fleet, until: 1_000 * millisecond)
        #expect(fleet.snapshot().keys[0].waiters >= 9_000)
        await fleet.stop()
        #expect(fleet.runningTasks == 0)
        expectTokensConserved(fleet)
    }

    @Test func afterShutdownEveryBucketOfEveryKeyingHoldsWhatItsAdmissionsPredict() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for keying in Keying.allCases { group.addTask { try await shutDownWhileSwitching(from: keying) } }
            try await group.waitForAll()
        }
    }

    func shutDownWhileSwitching(from keying: Keying) async throws {
        var s = Scenario.named("noisy-neighbor")!
        s.keying = keying
        let fleet = try LiveFleet(scenario: s, seed: 1, window: nil, auditing: true)
        await sleep(fleet, until: 400 * millisecond)
        try fleet.apply(.setKeying(keying.next))   // parked buckets with waiters too
        await sleep(fleet, until: 600 * millisecond)
        await fleet.stop()
        #expect(fleet.runningTasks == 0)
        expectTokensConserved(fleet)
    }

    @Test func shutdownIsIdempotent() async throws {
        let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!)
        await sleep(fleet, until: 100 * millisecond)
        await fleet.stop()
        let report = fleet.report().withoutWallTime
        await fleet.stop()
        await shutdownFromAThread(fleet)
        await shutdownFromAThread(fleet)
        #expect(fleet.runningTasks == 0)
        #expect(fleet.report().withoutWallTime.groups == report.groups)
        #expect(throws: Never.self) { try fleet.apply(.setRefill(3, key: nil)) }   // harmless after
    }
} }
