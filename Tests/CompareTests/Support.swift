import Compare
import TokenBucket

/// Seconds to nanoseconds, exactly for the decimals the tests use.
func s(_ seconds: Double) -> Nanoseconds { Nanoseconds((seconds * 1e9).rounded()) }

/// Tokens to nano-tokens.
func tok(_ tokens: Double) -> Int64 { TokenUnits.units(tokens) }

/// A request at `seconds` costing `tokens`, in progress for `service` seconds once admitted.
func req(_ seconds: Double, _ tokens: Double = 1, service: Double = 0) -> LimiterRequest {
    LimiterRequest(at: s(seconds), cost: tok(tokens), service: s(service))
}

/// Decisions of `limiter` on `requests`, as admission instants in seconds (nil: refused).
func admissions<L: Limiter>(_ limiter: inout L, _ requests: [LimiterRequest]) -> [Double?] {
    requests.map { limiter.decide($0).admittedAt.map { Double($0) / 1e9 } }
}

/// SplitMix64: the tests' seeded generator.
struct Seeded {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: UInt64) -> Int64 { Int64(next() % n) }
}

/// A random trace: `n` requests, gaps of 0 to `maxGap` ns (a quarter of them 0, so bursts at one
/// instant happen), costs of 1 to `maxCost` in steps of 0.1 token, services up to 3 s.
func randomTrace(seed: UInt64, n: Int, maxGap: Int64 = 400_000_000, maxCost: Int64 = 30) -> [LimiterRequest] {
    var g = Seeded(state: seed)
    var t: Int64 = 0
    return (0..<n).map { _ in
        if g.below(4) != 0 { t += g.below(UInt64(maxGap)) }
        return LimiterRequest(at: t, cost: (1 + g.below(UInt64(maxCost))) * TokenUnits.perToken / 10,
                              service: g.below(3_000_000_000))
    }
}
