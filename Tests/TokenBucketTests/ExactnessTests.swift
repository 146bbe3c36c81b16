import Testing
@testable import TokenBucket

/// Admission times against an independent exact reference, and two common shortcuts that drift.
///
/// The reference is the token-count formulation of the bucket (a level refilled continuously
/// and capped at capacity, debt allowed; a request waits until its debt is repaid), a
/// different algorithm from the library's GCRA, computed in exact rationals: every quantity is
/// an integer numerator over one common denominator, so nothing is rounded.
@Suite("Exactness against exact rational arithmetic")
struct ExactnessTests {
    struct Trace {
        /// Request instants (ns) and costs in thousandths of a token.
        var times: [Nanoseconds] = []
        var milliTokens: [Int64] = []
    }

    /// 100,000 requests with fractional costs (0.001 to 2 tokens, mean 1), arriving 10 % faster
    /// than the refill so the bucket stays busy and every error would accumulate.
    static func trace(refillPerSecond r: Double, seed: UInt64, count: Int = 100_000) -> Trace {
        var g = SeededGenerator(seed: seed)
        var trace = Trace()
        var t: Nanoseconds = 0
        let meanGap = 1e9 / (1.1 * r)
        for _ in 0..<count {
            let u = Double(g.next() >> 11) / Double(1 << 53)
            t += Nanoseconds((-meanGap * (1 - u).log()).rounded())
            trace.times.append(t)
            trace.milliTokens.append(Int64(g.next() % 2000) + 1)
        }
        return trace
    }

    /// Exact admission instants as rationals `numerator / (1000 × p)` ns, from the token-count
    /// formulation, for a bucket of `capacity` whole tokens refilling p/q per second.
    static func reference(_ trace: Trace, capacity: Int64, p: Int64, q: Int64) -> [Int128] {
        // Level in units of 1 / (1000 × q × 1e9) token: a cost of k/1000 token is k × q × 1e9,
        // refill over Δt ns is p × Δt × 1000.
        let full = Int128(capacity) * 1000 * Int128(q) * 1_000_000_000
        var level = full
        var last = trace.times.first ?? 0
        var out: [Int128] = []
        out.reserveCapacity(trace.times.count)
        for (t, k) in zip(trace.times, trace.milliTokens) {
            level = Swift.min(full, level + Int128(p) * Int128(t - last) * 1000)
            last = t
            level -= Int128(k) * Int128(q) * 1_000_000_000
            // Wait = debt / rate = (−level / (1000 q 1e9)) tokens ÷ (p/q per s) = −level / (1000 p) ns.
            out.append(Int128(t) * 1000 * Int128(p) + Swift.max(0, -level))
        }
        return out
    }

    static let rates: [(perSecond: Double, p: Int64, q: Int64, seed: UInt64)] = [
        (0.8, 4, 5, 11), (3, 3, 1, 12), (7, 7, 1, 13), (1000, 1000, 1, 14),
    ]

    @Test("library admissions are the exact ones rounded up to the ns, at 0.8/s, 3/s, 7/s, 1000/s",
          arguments: rates)
    func libraryMatchesExactReference(_ rate: (perSecond: Double, p: Int64, q: Int64, seed: UInt64)) throws {
        let trace = Self.trace(refillPerSecond: rate.perSecond, seed: rate.seed)
        let exact = Self.reference(trace, capacity: 5, p: rate.p, q: rate.q)
        var bucket = try BucketState(capacity: 5, refillPerSecond: rate.perSecond)
        #expect(bucket.configuration.refill == (try Rate(numerator: rate.p, denominator: rate.q)))
        let scale = Int128(1000 * rate.p)
        var worst: Int128 = 0
        var queued = 0
        for i in trace.times.indices {
            let r = bucket.reserve(units: trace.milliTokens[i] * 1_000_000, at: trace.times[i])
            if r.admitAt > trace.times[i] { queued += 1 }
            // admitAt = ceil(exact): 0 ≤ admitAt − exact < 1 ns.
            let diff = Int128(r.admitAt) * scale - exact[i]
            worst = Swift.max(worst, diff)
            if diff < 0 || diff >= scale {
                Issue.record("request \(i): admitted at \(r.admitAt) ns, exact \(Double(exact[i]) / Double(scale)) ns")
                return
            }
        }
        #expect(worst < scale)               // under 1 ns, far inside the 10 µs budget
        // Every request was compared (the state saw the whole trace), and the trace really kept
        // the bucket busy: most admissions were queued ones, computed from accumulated debt,
        // which is where a drifting implementation goes wrong.
        #expect(bucket.lastSeenTime == trace.times.last)
        #expect(queued * 2 > trace.times.count)
    }

    @Test("a rounded-integer emission interval drifts past 10 µs at 3/s and 7/s")
    func roundedIntervalDrifts() {
        for rate in Self.rates {
            let trace = Self.trace(refillPerSecond: rate.perSecond, seed: rate.seed)
            let exact = Self.reference(trace, capacity: 5, p: rate.p, q: rate.q)
            let interval = Int64((1e9 * Double(rate.q) / Double(rate.p)).rounded())   // 333,333,333 ns at 3/s
            var tat: Int64 = .min / 2
            var worst = 0.0
            for i in trace.times.indices {
                let increment = Int64((Double(trace.milliTokens[i]) / 1000 * Double(interval)).rounded())
                tat = Swift.max(tat, trace.times[i]) + increment
                let admit = Swift.max(tat - 5 * interval, trace.times[i])
                let x = Double(exact[i]) / Double(1000 * rate.p)
                worst = Swift.max(worst, abs(Double(admit) - x))
            }
            if rate.perSecond == 3 || rate.perSecond == 7 {
                #expect(worst > 10_000, "rate \(rate.perSecond)/s: worst error \(worst) ns")
            }
        }
    }

    @Test("an accumulating Double (theoretical full time in epoch seconds) drifts past 10 µs")
    func accumulatingDoubleDrifts() {
        var worstErrors: [Double] = []
        for rate in Self.rates {
            let trace = Self.trace(refillPerSecond: rate.perSecond, seed: rate.seed)
            let exact = Self.reference(trace, capacity: 5, p: rate.p, q: rate.q)
            let epoch = 1.7e9                       // seconds since 1970, as a wall clock gives them
            var tat = 0.0                           // theoretical full time, epoch seconds
            var worst = 0.0
            for i in trace.times.indices {
                let now = epoch + Double(trace.times[i]) / 1e9
                tat = Swift.max(tat, now) + Double(trace.milliTokens[i]) / 1000 / rate.perSecond
                let admit = Swift.max(tat - 5 / rate.perSecond, now)
                let x = Double(exact[i]) / Double(1000 * rate.p)
                worst = Swift.max(worst, abs((admit - epoch) * 1e9 - x))
            }
            worstErrors.append(worst)
        }
        #expect(worstErrors.allSatisfy { $0 > 10_000 }, "worst errors (ns) at 0.8, 3, 7, 1000/s: \(worstErrors)")
    }
}

private extension Double {
    func log() -> Double {
        // Natural log without Foundation: log(x) = log2(x) × ln 2, with log2 from the exponent
        // and a short series on the mantissa (accuracy is irrelevant here; determinism is not).
        var m = self.significand
        var e = Double(self.exponent)
        if m > 1.4142135623730951 { m /= 2; e += 1 }
        let y = (m - 1) / (m + 1), y2 = y * y
        var term = y, sum = 0.0
        var k = 1.0
        for _ in 0..<12 { sum += term / k; term *= y2; k += 2 }
        return 2 * sum + e * 0.6931471805599453
    }
}

@Suite("Token units")
struct TokenUnitsTests {
    @Test("tokens → nano-tokens rounds exactly as Double.rounded(), halves away from zero")
    func unitsRoundLikeRounded() {
        var rng = SeededGenerator(seed: 99)
        var samples: [Double] = [0, 1, 0.5e-9, 1.5e-9, 2.5e-9, -0.5e-9, -2.5e-9, 4.9999999999999994e-10, 1e-9, 7.3, 9e9 - 1,
                                 4_503_599.627370496, 4_503_599.627370497, 1e6 + 0.5e-9]
        for _ in 0..<100_000 {
            let magnitude = Double(1 << (rng.next() % 40)) * 1e-9
            samples.append(Double(rng.next() % 1_000_000) / 1_000 * magnitude * (rng.next() % 2 == 0 ? 1 : -1))
        }
        for t in samples {
            #expect(TokenUnits.units(t) == Int64((t * 1e9).rounded()), "\(t)")
        }
    }
}
