import Foundation
import Testing
@testable import Fleet
import TokenBucket

/// Live and simulated runs of the same scenario and seed agree: per group, admitted counts
/// within 5 % and p99 waits within 20 ms over 10 s. REAL TIME: each case runs 10 s of wall
/// time (the cases run in parallel).
///
/// The live run draws the same arrivals and costs as the simulator (same generators); what
/// differs is real time: arrivals land when a sleeping task wakes (late by the scheduler's
/// delay), waits include the resume lateness, and the upstream's latency draws interleave
/// differently across concurrent tasks. The measured window is exactly [0, 10 s] on the fleet's
/// clock (``LiveFleet/init(scenario:seed:window:)``), as for the simulator. Waits on both sides
/// are the bucket's (request to admission instant); live resume lateness is reported apart.
///
/// `upstream-429` is held to the admitted-count bound only. Its clients retry on the provider's
/// Retry-After, which is rounded up to a whole millisecond, so retries from different users
/// land on the same instant and race for the one token the provider's burst bucket has then:
/// the simulator breaks such ties by event order, live mode by which sleeping task wakes
/// first. Who wins decides whose client bucket pays for one more retry: one token of a 3/s
/// bucket moves that user's later waits by a third of a second (measured: admitted 201–209
/// live vs 202 simulated over nine runs, 429s 147–155 vs 148; p99 1,343–2,015 ms live vs
/// 1,638 ms simulated, all of it one user's queue: with tuning off too, user-4 max 1,916 ms
/// live, 1,599 ms simulated, after one retry more).
extension LiveRealTime { @Suite struct Agreement {
    /// Every built-in scenario as it ships, and the noisy neighbour under the other keyings.
    static let cases: [(String, Keying?)] = Scenario.builtIn.map { ($0.name, nil) }
        + [("noisy-neighbor", .shared), ("noisy-neighbor", .perTenant), ("noisy-neighbor", .hierarchical)]

    @Test func liveAndSimulatedAgreeOverTenSeconds() async throws {
        // All at once (each is light), so the test takes 10 s, not 70.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, keying) in Self.cases { group.addTask { try await agree(name, keying) } }
            try await group.waitForAll()
        }
    }

    func agree(_ scenarioName: String, _ keying: Keying?) async throws {
        var scenario = Scenario.named(scenarioName)!
        if let keying { scenario.keying = keying }
        let name = scenarioName + (keying.map { " (\($0.rawValue))" } ?? "")
        let window = 10 * second
        let live = try LiveFleet(scenario: scenario, seed: 1, window: window)
        await sleep(live, until: window + 100 * millisecond)
        await live.stop()
        let l = live.report()
        let sim = try Simulation(scenario: scenario, seed: 1)
        sim.run(until: window)
        let s = sim.report()
        for (lg, sg) in zip(l.groups, s.groups) {
            let line = "\(name) \(lg.name): admitted live \(lg.admitted) sim \(sg.admitted); p99 wait ms live \(fmt3(lg.waitMs.p99)) sim \(fmt3(sg.waitMs.p99)); lateness p99 \(fmt3(live.latenessPercentiles().p99)) ms; 429s live \(l.upstream.status429) sim \(s.upstream.status429); tuning live \(l.tuningMoves) \(l.tuningFactor ?? 1) sim \(s.tuningMoves) \(s.tuningFactor ?? 1)"
            print("agreement: " + line)
            #expect(Double(abs(lg.admitted - sg.admitted)) <= 0.05 * Double(sg.admitted), "\(line)")
            if scenarioName != "upstream-429" { #expect(abs(lg.waitMs.p99 - sg.waitMs.p99) <= 20, "\(line)") }
        }
    }

    func fmt3(_ x: Double) -> String { String(format: "%.3f", x) }
}
}
