import TokenBucket

/// Conversions to nanoseconds that cannot trap: `Int64(x * 1e9)` traps for x ≥ 9.2e9 s (and
/// for nan or infinity), and `t + d` traps past 2^63 ns.
///
/// Instants at or past ``never`` (2^62 ns, 146 years) mean "not within any run": every run lasts
/// at most a year (``InputLimits/year``), so an event pushed there is never reached, and a value
/// saturated to it is never reported as an answer. Sums of two instants below ``never`` cannot
/// overflow Int64.
///
/// ```swift
/// CheckedTime.nanoseconds(seconds: 1.5)          // 1_500_000_000
/// CheckedTime.nanoseconds(seconds: 1e300)        // CheckedTime.never
/// CheckedTime.after(now, seconds: latency)      // now + latency, or never
/// ```
public enum CheckedTime {
    /// 2^62 ns: later than any run can reach.
    public static let never: Nanoseconds = 1 << 62

    /// `seconds` as whole nanoseconds, rounded to nearest; ``never`` when that is at or past it
    /// (or not finite and positive); 0 for negative or nan.
    @inlinable
    public static func nanoseconds(seconds: Double) -> Nanoseconds {
        nanoseconds(fromNanos: seconds * 1e9)
    }

    /// A nanosecond count given as a Double, rounded to nearest, with the same saturation.
    @inlinable
    public static func nanoseconds(fromNanos ns: Double) -> Nanoseconds {
        guard ns > 0 else { return 0 }   // also nan
        guard ns < Double(never) else { return never }
        return Nanoseconds(ns.rounded())
    }

    /// `t + d` for `t, d ≥ 0`, or ``never`` when that is at or past it.
    @inlinable
    public static func adding(_ t: Nanoseconds, _ d: Nanoseconds) -> Nanoseconds {
        let (sum, overflow) = t.addingReportingOverflow(d)
        return overflow || sum >= never ? never : sum
    }

    /// `t` plus `seconds`, or ``never``.
    @inlinable
    public static func after(_ t: Nanoseconds, seconds: Double) -> Nanoseconds {
        adding(t, nanoseconds(seconds: seconds))
    }

    /// `tokens` as nano-tokens (the library's `TokenUnits`), for a cost already checked against
    /// ``InputLimits/cost``: exact up to 9.2e9 tokens; a larger cost, above every bucket's
    /// capacity (at most 1e9 tokens), becomes one nano-token more than the largest capacity, so
    /// it is refused exactly as the real cost would be.
    @inlinable
    public static func costUnits(_ tokens: Double) -> Int64 {
        guard tokens <= BucketConfiguration.maximumCapacity else { return TokenUnits.units(BucketConfiguration.maximumCapacity) + 1 }
        return Swift.max(0, TokenUnits.units(tokens))
    }
}
