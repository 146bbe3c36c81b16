import SharedStore
import TokenBucket

/// SplitMix64, as in the library's tests: seeded and platform-independent.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Request instants (ns) and costs in thousandths of a token, arriving 10 % faster than the
/// refill, as the library's exactness traces (exponential gaps, costs 0.001 to 2 tokens).
func exactnessTrace(refillPerSecond r: Double, seed: UInt64, count: Int) -> [(Nanoseconds, Int64)] {
    var g = SeededGenerator(seed: seed)
    var t: Nanoseconds = 0
    let meanGap = 1e9 / (1.1 * r)
    var out: [(Nanoseconds, Int64)] = []
    for _ in 0..<count {
        let u = Double(g.next() >> 11) / Double(1 << 53)
        t += Nanoseconds((-meanGap * naturalLog(1 - u)).rounded())
        out.append((t, Int64(g.next() % 2000) + 1))
    }
    return out
}

/// ln(x) without Foundation (determinism matters here, not accuracy).
func naturalLog(_ x: Double) -> Double {
    var m = x.significand
    var e = Double(x.exponent)
    if m > 1.4142135623730951 { m /= 2; e += 1 }
    let y = (m - 1) / (m + 1), y2 = y * y
    var term = y, sum = 0.0, k = 1.0
    for _ in 0..<12 { sum += term / k; term *= y2; k += 2 }
    return 2 * sum + e * 0.6931471805599453
}

/// Nanoseconds since 1970 on 2026-01-01: test instants are offset by it so the scripts'
/// arithmetic runs at the magnitudes `TIME` gives (1.8e18 ns, far past 2^53).
let epoch2026: Nanoseconds = 1_767_225_600_000_000_000

extension SharedAdmission {
    var reservation: SharedReservation? {
        if case .admitted(let r) = self { return r }
        return nil
    }
}
