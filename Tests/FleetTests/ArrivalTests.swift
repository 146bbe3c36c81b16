import Testing
@testable import Fleet
import TokenBucket

@Suite struct ArrivalTests {
    /// Requests one client starts in `seconds`, with limits that never bind.
    func started(_ arrival: Arrival, seconds: Int64) throws -> Int {
        let s = Scenario(name: "a", limits: ClientLimits(perUser: BucketSpec(capacity: 1e6, refillPerSecond: 1e6)),
                         clients: [ClientSpec(name: "c", group: "g", arrival: arrival)],
                         upstream: UpstreamSpec(ttft: 0.01...0.01))
        let sim = try Simulation(scenario: s, seed: 5)
        sim.run(until: seconds * second)
        return sim.requestsStarted
    }

    @Test func steadySendsEvenly() throws {
        #expect(abs(try started(.steady(rate: 10), seconds: 10) - 100) <= 1)
    }

    @Test func poissonAveragesItsRate() throws {
        #expect(abs(try started(.poisson(rate: 10), seconds: 100) - 1000) < 100)
    }

    @Test func onOffSendsOnlyWhileOn() throws {
        // 20/s for 2 s of every 10 s: 4/s on average.
        #expect(abs(try started(.onOff(rate: 20, on: 2 * second, off: 8 * second), seconds: 100) - 400) < 60)
    }

    @Test func rampClimbsThenHolds() throws {
        // 0 → 10/s over 10 s (50 requests), then 10/s for 10 s (100).
        #expect(abs(try started(.ramp(from: 0, to: 10, over: 10 * second), seconds: 20) - 150) < 35)
    }

    @Test func closedLoopKeepsItsConcurrencyOutstanding() throws {
        // 5 outstanding, each taking 10 ms at the provider plus 90 ms thinking: 50/s.
        #expect(abs(try started(.closedLoop(concurrency: 5, think: 90 * millisecond), seconds: 10) - 500) <= 10)
    }

    @Test func llmCostsFollowTheTraceFits() throws {
        let s = Scenario(name: "a", limits: ClientLimits(perUser: BucketSpec(capacity: 1e9, refillPerSecond: 1e9)),
                         clients: [ClientSpec(name: "c", group: "g", arrival: .poisson(rate: 100), cost: .llm(.conversation))])
        let sim = try Simulation(scenario: s, seed: 5)
        var prompts: [Int32] = [], completions: [Int32] = []
        for _ in 0..<4001 {
            sim.core.startRequest(client: 0)
            let r = sim.core.requests[sim.core.requests.count - 1]   // never run, so never reused
            prompts.append(r.prompt); completions.append(r.completion)
        }
        prompts.sort(); completions.sort()
        // A lognormal's median is e^mu: prompt e^6.63 ≈ 757, completion e^5.02 ≈ 151 (the trace's
        // own medians, 1,020 and 129, differ: the fits match the tails better than the middle).
        #expect(abs(Double(prompts[2000]) - 757) < 80)
        #expect(abs(Double(completions[2000]) - 151) < 20)
    }
}
