import Foundation
@testable import Fleet
import TokenBucket

let second: Int64 = 1_000_000_000
let millisecond: Int64 = 1_000_000

/// The repository root, found from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func run(_ name: String, keying: Keying? = nil, seed: UInt64 = 1, for duration: Int64 = 60 * second) throws -> Simulation {
    var s = Scenario.named(name)!
    if let k = keying { s.keying = k }
    let sim = try Simulation(scenario: s, seed: seed)
    sim.run(until: duration)
    return sim
}

/// requests = admitted + rejected + timed out + moved + waiting, for every key; returns the
/// keys where it fails.
func conservationFailures(_ m: FleetMetrics) -> [String] {
    m.keys.filter { $0.requests != $0.admitted + $0.rejected + $0.timedOut + $0.moved + $0.waiting }
        .map { "\($0.name): \($0.requests) != \($0.admitted) + \($0.rejected) + \($0.timedOut) + \($0.moved) + \($0.waiting)" }
}

func group(_ r: FleetReport, _ name: String) -> FleetReport.GroupRow { r.groups.first { $0.name == name }! }
