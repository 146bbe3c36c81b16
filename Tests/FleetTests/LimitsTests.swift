import Testing
@testable import Fleet
import TokenBucket

/// Resources bounded by design: a wait queue per bucket, an event budget per run, and the
/// provider's daily request limit enforced.
@Suite struct LimitsTests {
    /// An open-loop client far faster than its bucket, with no deadline: without a limit its
    /// queue (and memory) would grow for as long as the run lasts.
    @Test func aFullQueueRefusesAndCountsTheRefusalAsRejected() throws {
        var s = Scenario(name: "flood", limits: ClientLimits(perUser: BucketSpec(capacity: 1, refillPerSecond: 1)),
                         clients: [ClientSpec(name: "flood", group: "flood", arrival: .steady(rate: 1_000))])
        s.queueLimit = 50
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 2 * second)
        let k = sim.report().keys[0]
        #expect(k.maxQueue == 50)
        #expect(k.waiting == 50)
        #expect(k.rejected >= 1_900)
        #expect(k.requests == k.admitted + k.rejected + k.waiting)
        #expect(Scenario.defaultQueueLimit == 100_000)
        s.queueLimit = 0
        #expect(throws: FleetError.self) { try Simulation(scenario: s, seed: 1) }
    }

    @Test func theEventBudgetStopsARunAndSaysWhatToLower() throws {
        let sim = try Simulation(scenario: Scenario.named("noisy-neighbor")!, seed: 1)
        #expect(throws: FleetError.self) { try sim.run(until: 3_600 * second, eventBudget: 10_000) }
        #expect(sim.eventsRun == 10_000)
        #expect(sim.now < 3_600 * second)
        do {
            try sim.run(until: 3_600 * second, eventBudget: 10_000)
        } catch {
            #expect("\(error)".contains("lower the duration, the number of clients or their rates"))
        }
        let ok = try Simulation(scenario: Scenario.named("noisy-neighbor")!, seed: 1)
        try ok.run(until: 10 * second, eventBudget: Simulation.defaultEventBudget)
        #expect(ok.now == 10 * second)
    }

    @Test func theProviderEnforcesRequestsPerDay() throws {
        // OpenRouter's free tier: 20 a minute, 50 a day. One client at 1/s for ten minutes.
        let s = Scenario(name: "daily", limits: ClientLimits(perUser: BucketSpec(capacity: 100, refillPerSecond: 100)),
                         clients: [ClientSpec(name: "c", group: "g", arrival: .steady(rate: 1), retry: .none)],
                         upstream: UpstreamSpec(limits: ProviderLimits(requestsPerMinute: 20, requestsPerDay: 50), ttft: 0...0))
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 600 * second)
        let r = sim.report()
        // The day's 50 (plus what a day's refill gives back over ten minutes: 50 × 600/86,400 < 1).
        #expect(r.upstream.completed == 50)
        #expect(r.upstream.status429 == r.upstream.requests - 50)
    }

    @Test func theOpenRouterPresetCarriesItsDailyLimit() throws {
        let p = try #require(ProviderLimits.preset(named: "openrouter-free"))
        #expect(p.requestsPerDay == 50)
    }
}
