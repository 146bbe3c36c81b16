import Foundation
import Testing
@testable import Fleet
import TokenBucket

@Suite struct DeterminismTests {
    @Test func sameSeedGivesAnIdenticalReport() throws {
        for name in Scenario.builtIn.map(\.name) {
            let a = try run(name, seed: 42).report().json()
            let b = try run(name, seed: 42).report().json()
            #expect(a == b, "\(name)")
        }
    }

    @Test func anotherSeedGivesADifferentReport() throws {
        let a = try run("noisy-neighbor", seed: 1).report().withoutWallTime
        let b = try run("noisy-neighbor", seed: 2).report().withoutWallTime
        #expect(a != b)
    }

    @Test func smallStepsGiveTheSameRunAsOneBigStep() throws {
        let whole = try run("upstream-429", for: 30 * second).report().json()
        let sim = try Simulation(scenario: Scenario.named("upstream-429")!, seed: 1)
        // 16.6 ms frames at ×1 for 10 s, then ×1000 frames.
        while sim.now < 10 * second { sim.advance(by: 16_666_667) }
        sim.run(until: 10 * second)
        while sim.now < 30 * second { sim.advance(by: min(16_666_667_000, 30 * second - sim.now)) }
        #expect(sim.report().json() == whole)
    }
}

@Suite struct IsolationTests {
    @Test func quietClientsBarelyWaitPerUserButWaitLongWhenShared() throws {
        let perUser = group(try run("noisy-neighbor", keying: .perUser).report(), "quiet")
        let shared = group(try run("noisy-neighbor", keying: .shared).report(), "quiet")
        // Quiet users send 1/s into buckets of 10 refilling 2/s: almost never a wait.
        #expect(perUser.waitMs.p99 < 50)
        // Behind the noisy client's 100 waiters in one 8/s bucket: seconds.
        #expect(shared.waitMs.p99 > 1000)
        #expect(shared.waitMs.p99 > 20 * max(perUser.waitMs.p99, 1))
    }

    @Test func switchingToSharedShowsQuietClientsWaitingWithinSeconds() throws {
        let sim = try run("noisy-neighbor", for: 20 * second)
        let before = sim.snapshot().groups.first { $0.name == "quiet" }!
        #expect(before.waiting == 0)
        try sim.apply(.setKeying(.shared))
        sim.advance(by: 3 * second)
        let after = sim.snapshot().groups.first { $0.name == "quiet" }!
        // Percentiles only count admitted requests; the waiting read-out shows the harm at once.
        #expect(after.waiting > 0)
        #expect(after.oldestWaitSeconds > 1)
        #expect(after.oldestWaitSeconds <= 3.001)
    }

    @Test func hierarchicalKeepsQuietUsersIsolatedFromAnotherTenant() throws {
        let r = try run("noisy-neighbor", keying: .hierarchical).report()
        #expect(group(r, "quiet").waitMs.p99 < 1000)
        #expect(group(r, "noisy").waitMs.p99 > 10_000)
    }
}

@Suite struct ConservationTests {
    @Test(arguments: Scenario.builtIn.map(\.name), Keying.allCases)
    func everyRequestIsAccountedForPerKey(name: String, keying: Keying) throws {
        let sim = try run(name, keying: keying)
        #expect(conservationFailures(sim.metrics) == [])
        let r = sim.report()
        #expect(r.groups.reduce(0) { $0 + $1.requests } > 0)
    }

    @Test func keyingSwitchesWhileRunningKeepEveryRequestAccountedFor() throws {
        let sim = try Simulation(scenario: Scenario.named("noisy-neighbor")!, seed: 3)
        for (i, k) in [Keying.shared, .hierarchical, .perTenant, .perUser, .shared].enumerated() {
            sim.run(until: Int64(i + 1) * 10 * second)
            try sim.apply(.setKeying(k))
            #expect(sim.keying == k)
            #expect(conservationFailures(sim.metrics) == [])
        }
        sim.run(until: 70 * second)
        #expect(conservationFailures(sim.metrics) == [])
        #expect(sim.metrics.keys.contains { $0.moved > 0 })
    }

    @Test func aRequeuedWaiterIsCountedOnceInItsGroup() throws {
        let sim = try run("noisy-neighbor", for: 20 * second)
        try sim.apply(.setKeying(.shared))
        sim.run(until: 40 * second)
        try sim.apply(.setKeying(.perUser))
        sim.run(until: 60 * second)
        let m = sim.metrics
        let keyArrivals = m.keys.reduce(0) { $0 + $1.requests - $1.moved }
        #expect(m.groups.reduce(0) { $0 + $1.requests } == keyArrivals)
    }

    @Test func waitersMovedOnASwitchKeepTheirOriginalArrival() throws {
        let sim = try run("noisy-neighbor", for: 30 * second)
        let before = sim.snapshot().keys.first { $0.key == "noisy" }!
        #expect(before.waiters > 50)
        let oldest = before.oldestWaitSeconds
        try sim.apply(.setKeying(.shared))
        let noisy = sim.metrics.keys.first { $0.name == "noisy" }!
        #expect(noisy.moved == before.waiters)
        let shared = sim.metrics.keys.first { $0.name == "shared" }!
        // All of them re-entered the shared bucket at once; its full bucket admitted the first 20
        // there and then, with waits counted from their original arrival.
        #expect(shared.requests == before.waiters)
        #expect(shared.admitted == 20)
        #expect(Double(shared.waits.maxNanoseconds) / 1e9 >= oldest - 1e-9)
        #expect(sim.snapshot().lastChange?.summary == "keying per-user → shared")
    }
}

@Suite struct BuiltInScenarioTests {
    @Test(arguments: Scenario.builtIn.map(\.name))
    func runsAndAdmitsRequests(name: String) throws {
        let r = try run(name).report()
        #expect(r.groups.allSatisfy { $0.admitted > 0 }, "\(name)")
        #expect(r.upstream.requests > 0)
    }

    @Test func noisyNeighborIsTheDefaultWithQuietAndNoisyGroups() throws {
        #expect(FleetOptions().scenario == "noisy-neighbor")
        let sim = try Simulation(options: FleetOptions())
        #expect(sim.scenario.groupNames == ["quiet", "noisy"])
        #expect(sim.snapshot().keys.map(\.key) == ["user-1", "user-2", "user-3", "user-4", "noisy"])
    }

    @Test func burstRefusesWhatWouldWaitPastTheDeadlineWithoutTakingTokens() throws {
        let r = try run("burst").report()
        let bursty = group(r, "bursty")
        #expect(bursty.rejected > 0)
        #expect(bursty.waitMs.max <= 5000)
        #expect(group(r, "steady").rejected == 0)
    }

    @Test func llmTokensIsBoundByTokensNotRequests() throws {
        let sim = try run("llm-tokens")
        let r = sim.report()
        // About 2.6 requests/s is far under 500 RPM, yet chat users wait on their token buckets.
        #expect(Double(r.upstream.requests) / 60 < 500.0 / 60 / 2)
        #expect(group(r, "chat").waitMs.p99 > 1000)
    }

    @Test func makeFleetResolvesNamesAndFilesAndRejectsUnknownNames() throws {
        #expect(try makeFleet(FleetOptions(scenario: "burst")).scenarioName == "burst")
        let path = repositoryRoot.appendingPathComponent("scenarios/llm-tokens.toml").path
        #expect(try makeFleet(FleetOptions(scenario: path)).scenarioName == "llm-tokens")
        #expect(throws: FleetError.self) { try makeFleet(FleetOptions(scenario: "no-such")) }
    }
}

@Suite struct UpstreamTests {
    /// One client that never sends on its own; requests are started by hand.
    func quietFleet(honour: Bool) throws -> Simulation {
        let s = Scenario(name: "t", limits: ClientLimits(perUser: BucketSpec(capacity: 1000, refillPerSecond: 1000)),
                         clients: [ClientSpec(name: "c", group: "g", arrival: .poisson(rate: 1e-9),
                                              retry: .exponential(maxRetries: 2, base: 500 * millisecond, cap: 8 * second,
                                                                  honourRetryAfter: honour))],
                         upstream: UpstreamSpec(limits: ProviderLimits(requestsPerMinute: 60, burstPerSecond: true),
                                                ttft: 0...0))
        return try Simulation(scenario: s, seed: 1)
    }

    @Test func answers429WithRetryAfterAndTheClientRetriesExactlyThen() throws {
        let sim = try quietFleet(honour: true)
        sim.core.startRequest(client: 0)          // takes the second's only request
        sim.core.startRequest(client: 0)          // 429, Retry-After 1000 ms
        #expect(sim.metrics.upstream.status429 == 1)
        sim.run(until: 999 * millisecond)
        #expect(sim.metrics.upstream.requests == 2)
        sim.run(until: 1000 * millisecond)        // the retry, exactly at Retry-After: admitted
        #expect(sim.metrics.upstream.requests == 3)
        #expect(sim.metrics.upstream.status429 == 1)
        #expect(sim.core.completed == 2)
    }

    @Test func withoutHonouringRetryAfterTheSDKBackoffRetriesTooEarly() throws {
        let sim = try quietFleet(honour: false)
        sim.core.startRequest(client: 0)
        sim.core.startRequest(client: 0)
        sim.run(until: 1000 * millisecond)
        // 0.5 s × U[0.75, 1] is before the next token: a second 429.
        #expect(sim.metrics.upstream.status429 == 2)
    }

    @Test func givesUpAfterTwoRetries() throws {
        let s = Scenario(name: "t", clients: [ClientSpec(name: "c", group: "g", arrival: .poisson(rate: 1e-9),
                                                         retry: .fixed(delay: 1 * second, maxRetries: 2))],
                         upstream: UpstreamSpec(limits: ProviderLimits(requestsPerMinute: 10)))
        let sim = try Simulation(scenario: s, seed: 1)
        for _ in 0..<10 { sim.core.startRequest(client: 0) }   // the minute's 10 requests
        #expect(sim.metrics.upstream.status429 == 0)
        sim.core.startRequest(client: 0)          // 429 now, at 1 s and at 2 s (next token at 6 s): gives up
        sim.run(until: 3 * second)
        #expect(sim.core.failed == 1)
        #expect(sim.metrics.upstream.status429 == 3)
    }
}

@Suite struct TuningTests {
    @Test func cutsRefillWhenThe429RateExceedsOnePercent() throws {
        let sim = try run("upstream-429", for: 6 * second)
        #expect(sim.tuningMoves >= 1)
        let snap = sim.snapshot()
        #expect(snap.tuningFactor == 0.8)
        #expect(snap.tuningMoves == sim.tuningMoves)
        #expect(snap.keys.allSatisfy { abs($0.refillPerSecond - 3 * 0.8) < 1e-9 })
        #expect(snap.lastChange?.summary.hasPrefix("tuning: 429 rate") == true)
        let r = sim.report()
        #expect(r.tuningMoves == sim.tuningMoves)
        #expect(r.json().contains("\"tuning\""))
    }

    @Test func doesNothingWithoutTuningOrWithout429s() throws {
        #expect(try run("noisy-neighbor").snapshot().tuningFactor == nil)
        var s = Scenario.named("noisy-neighbor")!
        s.tuning = TuningSpec()
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 60 * second)
        #expect(sim.tuningMoves == 0)
        #expect(sim.snapshot().tuningFactor == 1)
    }
}

@Suite struct CommandTests {
    @Test func setRefillTakesEffectOnWaitersAtOnce() throws {
        let sim = try run("noisy-neighbor", for: 30 * second)
        let before = sim.snapshot().keys.first { $0.key == "noisy" }!
        try sim.apply(.setRefill(50, key: "noisy"))
        let note = sim.snapshot().lastChange!
        #expect(note.summary == "refill noisy 2/s → 50/s")
        #expect(note.key == "noisy")
        sim.advance(by: 1 * second)
        let after = sim.snapshot().keys.first { $0.key == "noisy" }!
        #expect(after.refillPerSecond == 50)
        #expect(after.admitted - before.admitted >= 40)
        #expect(conservationFailures(sim.metrics) == [])
    }

    @Test func setCapacityForAllKeysAndBadValuesThrow() throws {
        let sim = try run("noisy-neighbor", for: 5 * second)
        try sim.apply(.setCapacity(3, key: nil))
        #expect(sim.snapshot().keys.allSatisfy { $0.capacity == 3 })
        #expect(throws: BucketError.self) { try sim.apply(.setCapacity(-5, key: nil)) }
        #expect(throws: FleetError.self) { try sim.apply(.setRefill(1, key: "nobody")) }
        #expect(conservationFailures(sim.metrics) == [])
    }

    @Test func setNoisyStopsAndRestartsTheNoisyClient() throws {
        let sim = try run("noisy-neighbor", for: 5 * second)
        try sim.apply(.setNoisy(false))
        sim.run(until: 120 * second)     // its 100 waiters drain, nothing new arrives
        let off = sim.snapshot().keys.first { $0.key == "noisy" }!
        #expect(off.waiters == 0)
        #expect(!sim.snapshot().noisyEnabled)
        try sim.apply(.setNoisy(true))
        sim.advance(by: 1 * second)
        #expect(sim.snapshot().keys.first { $0.key == "noisy" }!.waiters > 50)
    }

    @Test(arguments: ProviderPreset.all.map(\.name))
    func everyLibraryPresetTheDashboardOffersApplies(name: String) throws {
        let sim = try run("noisy-neighbor", for: 2 * second)
        try sim.apply(.applyPreset(name))
        let snap = sim.snapshot()
        #expect(snap.upstream.requestsPerMinute == ProviderPreset.named(name)!.upstream.requestsPerMinute)
        sim.advance(by: 5 * second)
        #expect(conservationFailures(sim.metrics).isEmpty)
    }

    @Test func applyPresetSizesBucketsByTheLibrarysRule() throws {
        let sim = try run("noisy-neighbor", for: 5 * second)
        try sim.apply(.applyPreset("openai-gpt-4o-tier1"))
        let snap = sim.snapshot()
        // 500 RPM × 0.8 / 60 over 5 keys = 1.33/s each; a second of that as burst (at least 1).
        let rule = try ProviderPreset(named: "openai-gpt-4o-tier1").clientLimits(keys: 5).requests!
        #expect(abs(rule.refill.perSecond - 400.0 / 60 / 5) < 1e-9)
        #expect(snap.keys.allSatisfy { abs($0.refillPerSecond - rule.refill.perSecond) < 1e-9 && $0.capacity == rule.capacity })
        #expect(snap.upstream.requestsPerMinute == 500)
        #expect(snap.lastChange!.summary.hasPrefix("preset OpenAI gpt-4o Tier 1 over 5 keys: requests: 500 RPM × 0.8 / 60 / 5 = 1.33/s"))
        #expect(throws: FleetError.self) { try sim.apply(.applyPreset("nope")) }
    }

    @Test func aTokenCostedFleetIsSizedFromTokensInputAndOutputAdded() throws {
        var s = Scenario.named("llm-tokens")!
        s.keying = .hierarchical
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 2 * second)
        try sim.apply(.applyPreset("anthropic-sonnet-tier1"))   // 30,000 input + 8,000 output TPM
        let snap = sim.snapshot()
        let users = snap.keys.filter { !$0.key.hasPrefix("tenant:") }
        let parents = snap.keys.filter { $0.key.hasPrefix("tenant:") }
        let perUser = try ProviderPreset(named: "anthropic-sonnet-tier1").clientLimits(keys: users.count)
        let expected = perUser.inputTokens!.refill.perSecond + perUser.outputTokens!.refill.perSecond
        #expect(abs(expected - 38_000 * 0.8 / 60 / Double(users.count)) < 1e-9)
        #expect(users.allSatisfy { abs($0.refillPerSecond - expected) < 1e-9 })
        #expect(users.allSatisfy { abs($0.capacity - 38_000 * 0.8 / Double(users.count)) < 1e-6 })
        let perParent = 38_000 * 0.8 / 60 / Double(parents.count)
        #expect(!parents.isEmpty && parents.allSatisfy { abs($0.refillPerSecond - perParent) < 1e-9 })
        #expect(snap.upstream.requestsPerMinute == 50)
    }
}

@Suite struct HierarchicalTests {
    @Test func theParentIsNeverOverCommitted() throws {
        var s = Scenario.named("noisy-neighbor")!
        s.keying = .hierarchical
        s.limits.parentScope = .global
        s.limits.parent = BucketSpec(capacity: 5, refillPerSecond: 3)
        let sim = try Simulation(scenario: s, seed: 9)
        // Admissions through the parent in any window [0, t] never exceed capacity + refill × t.
        var t: Int64 = 0
        while t < 60 * second {
            t += 250 * millisecond
            sim.run(until: t)
            let parent = sim.metrics.keys.first { $0.name == "global" }!
            #expect(Double(parent.admitted) <= 5 + 3 * Double(t) / 1e9 + 1e-9)
        }
        let parent = sim.metrics.keys.first { $0.name == "global" }!
        #expect(Double(parent.admitted) > 0.9 * 3 * 60)
        #expect(conservationFailures(sim.metrics) == [])
    }
}

@Suite struct SnapshotTests {
    @Test func seriesHaveOneSamplePerIntervalUpToTheirLength() throws {
        let sim = try run("noisy-neighbor", for: 10 * second)
        let snap = sim.snapshot()
        #expect(snap.sampleInterval == 500 * millisecond)
        let noisy = snap.keys.first { $0.key == "noisy" }!
        #expect(noisy.queueSeries.count == 20)
        #expect(noisy.admittedPerSecond.count == 20)
        #expect(noisy.tokenSeries.count == 20)
        #expect(noisy.queueSeries.last! >= 90)
        #expect(snap.groups.map(\.name) == ["quiet", "noisy"])
        #expect(snap.groups[0].throughputSeries.count == 20)
        sim.run(until: 200 * second)
        #expect(sim.snapshot().keys[0].tokenSeries.count == 120)
    }
}
