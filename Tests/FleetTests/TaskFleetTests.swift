import Foundation
import Testing
@testable import Fleet
import TokenBucket

// The task driver (`TaskFleet`) on the library's `ManualClock`, without pacing: `step(to:)`
// moves the clock from one due instant to the next and lets every waiting task run between,
// so each figure is the same on every run, with no real sleep.

/// A task fleet of `scenario` on a fresh manual clock at time zero, not paced.
func taskFleet(_ scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil) throws -> (TaskFleet<ManualClock>, ManualClock) {
    let clock = ManualClock()
    return (try TaskFleet(scenario: scenario, seed: seed, window: window, clock: clock, pacing: false), clock)
}

/// Every key's limiter level equals the replay of the admissions the core counted.
func expectConserved<C>(_ fleet: TaskFleet<C>, sourceLocation: SourceLocation = #_sourceLocation) {
    for gap in fleet.conservationGaps() {
        #expect(abs(gap.limiter - gap.replay) < 1e-6, "\(gap.key): limiter \(gap.limiter) replay \(gap.replay)",
                sourceLocation: sourceLocation)
    }
}

@Suite struct TaskFleetOnATestClock {
    // MARK: Agreement with the simulator

    /// Noisy-neighbor, burst and llm-tokens under every keying: the fleet whose waiting is done
    /// by tasks on the library's limiter admits what the simulator admits, per group, and its
    /// p99 wait is within 20 ms of the simulator's.
    @Test(arguments: ["noisy-neighbor", "burst", "llm-tokens"], Keying.allCases)
    func tasksOnTheLibraryLimiterAgreeWithTheSimulator(name: String, keying: Keying) async throws {
        var s = Scenario.named(name)!
        s.keying = keying
        let window = 10 * second
        let (fleet, _) = try taskFleet(s, window: window)
        await fleet.step(to: window)
        let live = fleet.report(duration: window, wallSeconds: 0)
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: window)
        let sr = sim.report()
        #expect(live.groups.map(\.name) == sr.groups.map(\.name))
        for (lg, sg) in zip(live.groups, sr.groups) {
            let line = "\(name) \(keying.rawValue) \(lg.name): admitted tasks \(lg.admitted) sim \(sg.admitted); p99 ms tasks \(lg.waitMs.p99) sim \(sg.waitMs.p99)"
            print("task agreement: " + line)
            #expect(lg.admitted == sg.admitted, "\(line)")
            #expect(abs(lg.waitMs.p99 - sg.waitMs.p99) <= 20, "\(line)")
        }
        // The waiting requests are the tasks waiting in the library's limiter, one for one.
        #expect(fleet.waitingTasks == live.groups.reduce(0) { $0 + $1.waiting })
        #expect(conservationFailures(fleet.metrics) == [])
        await fleet.stop()
        #expect(fleet.waitingTasks == 0)
        expectConserved(fleet)
    }
}
