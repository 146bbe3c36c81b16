import Foundation

/// The simulator's own random numbers: xoshiro256** seeded through SplitMix64.
///
/// Never the system generator or the wall clock, so the same seed gives the same run, byte for
/// byte, on every machine. Each client and the upstream draw from their own stream (seeded from
/// the scenario seed and the stream number), so turning one client off does not shift the
/// numbers another client sees.
///
/// ```swift
/// var g = Xoshiro256(seed: 1, stream: 3)
/// let u = g.nextUnit()          // U[0, 1)
/// let e = g.exponential(rate: 2) // mean 0.5
/// ```
struct Xoshiro256: Sendable {
    private var s0, s1, s2, s3: UInt64

    init(seed: UInt64, stream: UInt64) {
        var sm = seed &+ stream &* 0xD1B5_4A32_D192_ED03
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1), 53 bits.
    @inline(__always)
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi].
    @inline(__always)
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * nextUnit() }

    /// Exponential with the given rate (mean 1/rate).
    @inline(__always)
    mutating func exponential(rate: Double) -> Double { -log1p(-nextUnit()) / rate }

    /// Standard normal (Box–Muller; one draw of the pair is used, keeping the stream stateless).
    mutating func normal() -> Double {
        let u1 = 1 - nextUnit()   // (0, 1]
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Lognormal: exp(mu + sigma × N(0, 1)).
    mutating func lognormal(mu: Double, sigma: Double) -> Double { exp(mu + sigma * normal()) }
}
