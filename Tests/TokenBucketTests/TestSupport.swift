import Testing
@testable import TokenBucket

/// SplitMix64: a small, seeded, platform-independent generator, so every randomized test
/// replays exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One admission as a test observed it: `units` nano-tokens acted on at `at`.
struct Admitted {
    var at: Nanoseconds
    var units: Int64
}

/// The largest amount by which any window `[a, b]` of `events` exceeds
/// `capacity + refill × (b − a)`, in nano-tokens (≤ 0 means every window conforms).
///
/// With prefix sums `S`, window `[i, j]` holds `S_j − S_{i−1}`; the bound is violated when
/// `(S_j − r t_j) − (S_{i−1} − r t_i) > C`. A running minimum of `S_{i−1} − r t_i` makes it O(n).
/// Exact: everything is scaled by the rate's denominator `q` (refill = p/q nano-tokens per ns).
func worstExcess(_ events: [Admitted], capacityUnits: Int64, p: Int64, q: Int64) -> Double {
    let sorted = events.sorted { $0.at < $1.at }
    var prefix: Int128 = 0          // S × q
    var minStart = Int128.max       // min over i of (S_{i−1} − r t_i) × q
    var worst = Int128.min
    var i = 0
    while i < sorted.count {
        // Events at the same instant open a window together.
        let t = sorted[i].at
        minStart = Swift.min(minStart, prefix - Int128(p) * Int128(t))
        while i < sorted.count, sorted[i].at == t {
            prefix += Int128(sorted[i].units) * Int128(q)
            i += 1
        }
        let end = prefix - Int128(p) * Int128(t)
        worst = Swift.max(worst, end - minStart - Int128(capacityUnits) * Int128(q))
    }
    return Double(worst) / Double(q)
}

/// Yields until `condition` holds; fails the test instead of hanging. Gives up only after
/// both 200,000 yields and 60 s of real time: on a loaded machine the task it waits for may be
/// off the CPU for a long while (then a yield costs no time), or the cooperative pool may be
/// busy with other tests for a minute (then a yield takes long).
func eventually(_ what: Comment, _ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async {
    let start = ContinuousClock.now
    var yields = 0
    while !condition() {
        yields += 1
        if yields >= 200_000, ContinuousClock.now - start >= .seconds(60) {
            Issue.record("timed out waiting: \(what)", sourceLocation: sourceLocation)
            return
        }
        await Task.yield()
    }
}

let second: Nanoseconds = 1_000_000_000
let millisecond: Nanoseconds = 1_000_000
