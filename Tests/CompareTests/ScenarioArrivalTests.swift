import Compare
import Fleet
import Testing
import TokenBucket

@Suite struct ScenarioArrivalTests {
    @Test(arguments: ["noisy-neighbor", "burst", "llm-tokens"])
    func openLoopClientsSendWhatTheSimulatorSees(name: String) throws {
        let scenario = Scenario.named(name)!
        let minute: Nanoseconds = 60_000_000_000
        let arrivals = try scenario.openLoopArrivals(seed: 3, duration: minute)
        let sim = try Simulation(scenario: scenario, seed: 3)
        sim.run(until: minute)
        let report = sim.report()
        let names = scenario.clientNames
        for spec in scenario.clients {
            if case .closedLoop = spec.arrival { continue }
            let group = report.groups.first { $0.name == spec.group }!
            let sent = arrivals.filter { names[Int($0.client)].hasPrefix(spec.name) }.count
            #expect(sent == group.requests, "group \(spec.group)")
        }
        #expect(zip(arrivals, arrivals.dropFirst()).allSatisfy { $0.at <= $1.at })
    }

    @Test func aClosedLoopSendsAgainAfterServiceAndThink() throws {
        let scenario = Scenario(name: "loop", clients: [
            ClientSpec(name: "loop", group: "g", arrival: .closedLoop(concurrency: 3, think: 100_000_000)),
        ], upstream: UpstreamSpec(ttft: 0.5...0.5))
        let arrivals = try scenario.openLoopArrivals(seed: 1, duration: 10_000_000_000)
        // Three senders, each every 0.5 s service + 0.1 s think, starting within 10 ms: 17 each.
        #expect(arrivals.count == 3 * 17)
        #expect(arrivals.allSatisfy { $0.service == 500_000_000 })
    }
}
