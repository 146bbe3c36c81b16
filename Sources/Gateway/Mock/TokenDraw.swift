import Fleet
import Foundation
import Synchronization

/// Completion lengths for the mock upstream, drawn from the lognormal fits of the Azure LLM
/// inference trace that the simulator uses (`LLMProfile` in the Fleet module), from a seeded
/// generator so a run can be repeated.
final class TokenDraw: Sendable {
    private let state: Mutex<UInt64>
    let profile: LLMProfile

    init(profile: LLMProfile, seed: UInt64) {
        self.profile = profile
        state = Mutex(seed)
    }

    /// Completion tokens for one response, 1…1,000,000.
    func completionTokens() -> Int {
        let (u1, u2) = state.withLock { s in (TokenDraw.unit(&s), TokenDraw.unit(&s)) }
        // Box–Muller: one standard normal from two uniforms.
        let z = (-2 * log(Swift.max(u1, 1e-300))).squareRoot() * cos(2 * Double.pi * u2)
        let x = exp(profile.completionMu + profile.completionSigma * z)
        return Int(Swift.min(1_000_000, Swift.max(1, x.rounded())))
    }

    /// SplitMix64 step, as a uniform in [0, 1).
    private static func unit(_ s: inout UInt64) -> Double {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1p-53
    }
}
