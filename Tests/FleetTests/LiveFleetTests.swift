import Foundation
import Testing
@testable import Fleet
import TokenBucket

// Live mode on a test clock: the clock driver (`LiveFleet`) on the library's `ManualClock`.
// Time moves only when a test moves it, and every read-out runs the fleet core up to the
// clock's now first, so each figure below is exact: no real sleep, no tolerance.

extension Tag {
    /// Runs on the real `ContinuousClock`: takes wall time and depends on the scheduler.
    @Tag static var realTime: Self
}

/// The few live tests on the real clock (smoke tests with generous tolerances), one at a time.
@Suite(.serialized, .tags(.realTime)) struct LiveRealTime {}

/// One closed-loop client of `concurrency` on one shared bucket, a fast upstream.
func saturating(concurrency: Int, capacity: Double, refill: Double) -> Scenario {
    Scenario(name: "saturating", keying: .shared,
             limits: ClientLimits(shared: BucketSpec(capacity: capacity, refillPerSecond: refill)),
             clients: [ClientSpec(name: "loop", group: "loop", arrival: .closedLoop(concurrency: concurrency, think: 0))],
             upstream: UpstreamSpec(ttft: 0.001...0.002))
}

func sum(_ r: FleetReport, _ field: KeyPath<FleetReport.GroupRow, Int>) -> Int { r.groups.reduce(0) { $0 + $1[keyPath: field] } }

/// A live fleet of `scenario` on a fresh manual clock at time zero.
func manualFleet(_ scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil) throws -> (LiveFleet<ManualClock>, ManualClock) {
    let clock = ManualClock()
    return (try LiveFleet(scenario: scenario, seed: seed, window: window, clock: clock), clock)
}

extension ManualClock {
    /// Moves the clock to `t` nanoseconds after its start.
    func set(_ t: Nanoseconds) { advance(to: Instant(offset: .nanoseconds(t))) }
}

@Suite struct LiveFleetOnATestClock {
    // MARK: One core, two drivers

    /// Every built-in scenario under every keying, including the tie the upstream-429
    /// scenario's millisecond Retry-After creates: the clock driver advanced in uneven steps
    /// gives the simulator's report, count for count and wait for wait.
    @Test(arguments: Scenario.builtIn.map(\.name), Keying.allCases)
    func aLiveRunIsTheSimulatorsRun(name: String, keying: Keying) throws {
        var s = Scenario.named(name)!
        s.keying = keying
        let (live, clock) = try manualFleet(s, window: 10 * second)
        var t: Nanoseconds = 0
        var step: Nanoseconds = 7 * millisecond
        while t < 12 * second {
            t += step
            step = step * 3 % (900 * millisecond) + 1   // uneven, and past the window at the end
            clock.set(t)
            _ = live.snapshot()
        }
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 10 * second)
        var lr = live.report(duration: 10 * second, wallSeconds: 0)
        let sr = sim.report()
        #expect(lr.mode == .live)
        lr.mode = .simulated
        #expect(lr == sr)
        for (lg, sg) in zip(lr.groups, sr.groups) {
            #expect(lg.admitted == sg.admitted && abs(lg.waitMs.p99 - sg.waitMs.p99) <= 20, "\(name) \(keying) \(lg.name)")
        }
    }

    @Test func theWindowStopsTheFleetAtItsEndHoweverLateItIsRead() throws {
        let (fleet, clock) = try manualFleet(Scenario.named("burst")!, window: 2 * second)
        clock.set(30 * second)
        let r = fleet.report(duration: 2 * second)
        #expect(fleet.snapshot().now == 2 * second)
        #expect(r.durationSeconds == 2)
        #expect(conservationFailures(fleet.metrics) == [])
    }

    // MARK: What a frame shows

    @Test func groupsShowTheirWaitingRequestsAndTheOldestWait() throws {
        let (fleet, clock) = try manualFleet(Scenario.named("noisy-neighbor")!)
        clock.set(300 * millisecond)
        let s = fleet.snapshot()
        #expect(s.mode == .live)
        #expect(s.now == 300 * millisecond)
        let noisy = try #require(s.groups.first { $0.name == "noisy" })
        // 100 sent within the first 10 ms, 10 admitted at once from a full bucket of 10; a 2/s
        // refill gives no 11th token before 0.5 s: 90 waiting, the oldest for 0.29–0.30 s.
        #expect(noisy.waiting == 90)
        #expect(noisy.oldestWaitSeconds > 0.29 && noisy.oldestWaitSeconds <= 0.30)
        #expect(noisy.waiting == s.keys.first { $0.key == "noisy" }?.waiters)
        // Their waits so far count: the p99 is at least 0.29 s, and says it is a lower bound.
        #expect(noisy.waitMs.lowerBound)
        #expect(noisy.waitMs.p99 >= 290)
    }

    @Test func makeLiveFleetGivesADriverInLiveModeThatIgnoresAdvance() throws {
        let driver = try makeLiveFleet(FleetOptions(scenario: "burst", seed: 3), mode: .core)
        defer { driver.shutdown() }
        #expect(driver.mode == .live)
        #expect(driver.scenarioName == "burst")
        driver.advance(by: 3_600 * second)   // no effect: the clock decides
        let s = driver.snapshot()
        #expect(s.now < 1 * second)
        #expect(s.keys.map(\.key) == ["steady-1", "steady-2", "steady-3", "bursty-1", "bursty-2"])
        #expect(driver.reportSoFar()?.mode == .live)
    }

    // MARK: Controls

    @Test func refillAndCapacityChangesShowInTheNextSnapshotAndReplanWaiters() throws {
        // 50 senders on a bucket of 5 refilling 1/s: 5 admitted at once, answered within 2 ms
        // and sent again: all 50 waiting, for up to 50 s.
        let (fleet, clock) = try manualFleet(saturating(concurrency: 50, capacity: 5, refill: 1))
        clock.set(300 * millisecond)
        let before = fleet.snapshot().keys[0]
        #expect(before.waiters == 50)
        #expect(before.admitted == 5)
        try fleet.apply(.setRefill(200, key: nil))
        try fleet.apply(.setCapacity(8, key: "shared"))
        let after = fleet.snapshot()
        #expect(after.keys[0].refillPerSecond == 200)
        #expect(after.keys[0].capacity == 8)
        #expect(after.lastChange?.summary == "capacity shared 5 → 8")
        #expect(after.lastChange?.at == 300 * millisecond)
        // Re-planned at 200/s, the 50 waiters are admitted within 50/200 s = 250 ms.
        clock.set(300 * millisecond + 250 * millisecond)
        #expect(fleet.snapshot().keys[0].admitted >= 55)
        #expect(conservationFailures(fleet.metrics) == [])
    }

    @Test func badValuesThrowAndChangeNothing() throws {
        let (fleet, clock) = try manualFleet(Scenario.named("noisy-neighbor")!)
        clock.set(second)
        #expect(throws: BucketError.self) { try fleet.apply(.setRefill(-1, key: nil)) }
        #expect(throws: FleetError.self) { try fleet.apply(.setCapacity(5, key: "nobody")) }
        #expect(throws: FleetError.self) { try fleet.apply(.applyPreset("nope")) }
        #expect(fleet.snapshot().keys.allSatisfy { $0.capacity == 10 && $0.refillPerSecond == 2 })
        #expect(fleet.snapshot().lastChange == nil)
    }

    @Test func aKeyingSwitchMovesTheWaitersToTheNewBuckets() throws {
        let (fleet, clock) = try manualFleet(Scenario.named("noisy-neighbor")!)
        clock.set(200 * millisecond)
        let noisyBefore = try #require(fleet.snapshot().keys.first { $0.key == "noisy" })
        #expect(noisyBefore.waiters == 90)
        try fleet.apply(.setKeying(.shared))
        let s = fleet.snapshot()
        #expect(s.keying == .shared)
        #expect(s.keys.map(\.key) == ["shared"])
        #expect(s.lastChange?.summary == "keying per-user → shared")
        // Every waiter left its per-user bucket and queues on "shared" now; none is lost.
        let old = try #require(fleet.metrics.keys.first { $0.name == "noisy" })
        #expect(old.waiting == 0)
        #expect(old.moved == noisyBefore.waiters)
        #expect(s.keys[0].waiters >= noisyBefore.waiters - 20)   // "shared" holds 20 tokens: some go at once
        let waitingByGroup = s.groups.reduce(0) { $0 + $1.waiting }
        #expect(waitingByGroup == s.keys[0].waiters)
        clock.set(1_400 * millisecond)
        #expect(conservationFailures(fleet.metrics) == [])
    }

    @Test func noisyOffStopsNewNoisyRequestsAtOnceAndOnStartsThemAgain() throws {
        let s = Scenario(name: "noisy-toggle", limits: ClientLimits(perUser: BucketSpec(capacity: 1_000, refillPerSecond: 1_000)),
                         clients: [ClientSpec(name: "quiet", group: "quiet", arrival: .poisson(rate: 40)),
                                   ClientSpec(name: "noisy", group: "noisy", arrival: .poisson(rate: 100), noisy: true)],
                         upstream: UpstreamSpec(ttft: 0.001...0.002))
        let (fleet, clock) = try manualFleet(s)
        clock.set(300 * millisecond)
        try fleet.apply(.setNoisy(false))
        #expect(fleet.snapshot().noisyEnabled == false)
        let off = fleet.snapshot().groups
        clock.set(700 * millisecond)
        let later = fleet.snapshot().groups
        #expect(later[1].requests == off[1].requests)   // not one noisy request after the command
        #expect(later[0].requests > off[0].requests)
        try fleet.apply(.setNoisy(true))
        clock.set(1_000 * millisecond)
        #expect(fleet.snapshot().groups[1].requests > later[1].requests)
    }

    @Test func pauseStopsArrivalsWhileWaitersAreStillAdmitted() throws {
        // 20 senders on a bucket of 2 refilling 10/s: 18 waiting.
        let (fleet, clock) = try manualFleet(saturating(concurrency: 20, capacity: 2, refill: 10))
        clock.set(300 * millisecond)
        fleet.setPaused(true)
        #expect(fleet.isPaused)
        let paused = fleet.snapshot().keys[0]
        #expect(paused.waiters >= 15)
        clock.set(950 * millisecond)
        let later = fleet.snapshot().keys[0]
        #expect(later.requests == paused.requests)        // nothing new sent
        #expect(later.admitted >= paused.admitted + 6)     // 10/s kept admitting the waiters
        fleet.setPaused(false)
        clock.set(1_300 * millisecond)
        #expect(fleet.snapshot().keys[0].requests > later.requests)
        #expect(conservationFailures(fleet.metrics) == [])
    }

    @Test func aPresetSizesTheBucketsByTheLibrarysRule() throws {
        let (fleet, clock) = try manualFleet(Scenario.named("noisy-neighbor")!)
        clock.set(second)
        try fleet.apply(.applyPreset("openai-gpt-4o-tier1"))   // 500 RPM × 0.8 / 60 over 5 keys
        let s = fleet.snapshot()
        #expect(s.keys.allSatisfy { abs($0.refillPerSecond - 400.0 / 60 / 5) < 1e-9 && abs($0.capacity - 400.0 / 60 / 5) < 1e-9 })
        #expect(s.upstream.requestsPerMinute == 500)
        #expect(s.lastChange?.at == second)
    }

    // MARK: Stopping

    @Test func stopFreezesTheFleetWhereItWasAndCommandsStillApplyToWhatIsShown() async throws {
        let (fleet, clock) = try manualFleet(saturating(concurrency: 200, capacity: 5, refill: 50))
        clock.set(500 * millisecond)
        #expect(fleet.isRunning)
        await fleet.stop()
        #expect(!fleet.isRunning)
        let report = fleet.report().withoutWallTime
        #expect(report.keys[0].waiting > 150)
        clock.set(10 * second)
        await fleet.stop()          // idempotent
        fleet.shutdown()
        #expect(fleet.snapshot().now == 500 * millisecond)
        #expect(fleet.report().withoutWallTime == report)   // time stopped at the stop
        // A command after the stop acts on the frozen buckets (the dashboard may still send one).
        try fleet.apply(.setRefill(3, key: nil))
        #expect(fleet.snapshot().keys[0].refillPerSecond == 3)
        #expect(fleet.report().keys[0].admitted == report.keys[0].admitted)
        #expect(conservationFailures(fleet.metrics) == [])
    }
}

extension LiveFleetOnATestClock {
    /// The pacing task does not keep a fleet alive: one that nobody holds is gone (and its
    /// task ends at its next wake-up) even if nobody stopped it.
    @Test func aFleetNobodyHoldsIsFreedWithoutAStop() async throws {
        weak var dropped: LiveFleet<ManualClock>?
        let clock = ManualClock()
        do {
            let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!, seed: 1, clock: clock)
            dropped = fleet
            clock.set(second)
            #expect(fleet.snapshot().now == second)
        }
        // The task may be running the core at this instant (holding the fleet for that call):
        // give it the turns and the time it needs (10,000 yields and 60 s only catch a leak).
        let start = ContinuousClock.now
        var yields = 0
        while dropped != nil, yields < 10_000 || ContinuousClock.now - start < .seconds(60) {
            yields += 1
            await Task.yield()
        }
        #expect(dropped == nil)
    }
}

extension LiveRealTime { @Suite struct Smoke {
    /// REAL TIME, about 0.3 s: the clock driver on `ContinuousClock` paces the core by itself
    /// (nobody reads it meanwhile) and stops promptly. Tolerances for a loaded 2-core machine.
    @Test func onTheRealClockTheFleetRunsByItselfAndStops() async throws {
        let fleet = try LiveFleet(scenario: Scenario.named("noisy-neighbor")!, seed: 1)
        try await Task.sleep(for: .milliseconds(300))
        await fleet.stop()
        #expect(!fleet.isRunning)
        let s = fleet.snapshot()
        #expect(s.now >= 200 * millisecond && s.now < 60 * second)   // the sleep is a lower bound; 60 s only catches a hang
        #expect(s.keys.reduce(0) { $0 + $1.requests } >= 100)   // the noisy loop's first 100 are in
        #expect(conservationFailures(fleet.metrics) == [])
    }
} }
