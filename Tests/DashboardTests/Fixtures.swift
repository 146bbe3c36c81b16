import Dashboard
import Fleet
import Foundation

/// Hand-made fleet values for tests that need exact numbers.
enum Fixtures {
    static func key(_ name: String, group: String = "quiet", capacity: Double = 20, refill: Double = 4, tokens: Double = 10,
                    waiters: Int = 0, p99: Double = 0, parent: String? = nil) -> KeySnapshot {
        KeySnapshot(key: name, group: group, capacity: capacity, refillPerSecond: refill, tokens: tokens, waiters: waiters,
                    oldestWaitSeconds: 0, requests: 0, admitted: 0, rejected: 0, upstream429: 0, maxQueue: 0,
                    waitMs: WaitPercentiles(p50: p99 / 2, p90: p99, p99: p99, max: p99),
                    admittedPerSecond: [], tokenSeries: [], queueSeries: [], parent: parent)
    }

    static func snapshot(keys: [KeySnapshot] = [key("a"), key("b", waiters: 5, p99: 900), key("c", group: "noisy", waiters: 9, p99: 300)],
                         keying: Keying = .perUser, noisy: Bool = true, mode: FleetMode = .simulated) -> FleetSnapshot {
        FleetSnapshot(scenario: "test", mode: mode, keying: keying, now: 0, sampleInterval: 500_000_000, noisyEnabled: noisy,
                      keys: keys, groups: [],
                      upstream: UpstreamSnapshot(name: "up", requestsPerMinute: 500, tokensPerMinute: nil, requestsLastMinute: 0,
                                                 tokensLastMinute: 0, requests: 0, status429: 0, rate429: 0, inFlight: 0),
                      lastChange: nil, tuningFactor: nil)
    }

    /// The package's root directory (three levels above this file).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
