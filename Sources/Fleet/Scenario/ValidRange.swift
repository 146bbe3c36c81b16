import Foundation
import TokenBucket

/// The valid range of one number a user can give (a scenario field, a flag, a replay column),
/// with the unit it is read in. Every such number is checked against its range where it enters,
/// so nothing downstream can see a value whose arithmetic could trap or be clamped.
///
/// ```swift
/// InputLimits.capacity.violation(-1)   // "must be > 0, got -1 (valid: 1e-9 to 1e9 tokens)"
/// InputLimits.capacity.violation(10)   // nil
/// ```
public struct ValidRange: Sendable, Equatable, CustomStringConvertible {
    public let lower: Double
    public let upper: Double
    /// What the number counts ("tokens", "per second").
    public let unit: String
    /// Whether 0 is allowed besides `lower...upper` (ramp rates: 0 or at least 1e-9).
    public let zeroAllowed: Bool

    public init(_ lower: Double, _ upper: Double, unit: String, zeroAllowed: Bool = false) {
        self.lower = lower; self.upper = upper; self.unit = unit; self.zeroAllowed = zeroAllowed
    }

    /// `1e-9 to 1e9 tokens`.
    public var description: String {
        (zeroAllowed ? "0, or " : "") + "\(NumberText.format(lower)) to \(NumberText.format(upper))"
            + (unit.isEmpty ? "" : " \(unit)")
    }

    public func contains(_ x: Double) -> Bool {
        x.isFinite && ((lower...upper).contains(x) || (zeroAllowed && x == 0))
    }

    /// nil when `x` is in range; otherwise what is wrong, naming the valid range.
    public func violation(_ x: Double) -> String? {
        if contains(x) { return nil }
        let got = NumberText.format(x)
        if !x.isFinite { return "must be a finite number, got \(got) (valid: \(self))" }
        if x <= 0, lower > 0, !zeroAllowed { return "must be > 0, got \(got) (valid: \(self))" }
        if x < lower { return "must be at least \(NumberText.format(lower)), got \(got) (valid: \(self))" }
        return "must be at most \(NumberText.format(upper)), got \(got) (valid: \(self))"
    }
}

/// The valid range of a duration, in nanoseconds; messages print durations as people write them.
public struct ValidDuration: Sendable, Equatable, CustomStringConvertible {
    public let lower: Nanoseconds
    public let upper: Nanoseconds

    public init(_ lower: Nanoseconds, _ upper: Nanoseconds) {
        self.lower = lower; self.upper = upper
    }

    public var description: String { "\(DurationText.format(lower)) to \(DurationText.format(upper))" }

    public func violation(_ ns: Nanoseconds) -> String? {
        if ns < lower {
            return (lower == 1 ? "must be > 0" : "must be at least \(DurationText.format(lower))")
                + ", got \(DurationText.format(ns)) (valid: \(self))"
        }
        if ns > upper { return "must be at most \(DurationText.format(upper)), got \(DurationText.format(ns)) (valid: \(self))" }
        return nil
    }
}

/// The valid range of a whole number.
public struct ValidCount: Sendable, Equatable, CustomStringConvertible {
    public let lower: Int
    public let upper: Int

    public init(_ lower: Int, _ upper: Int) {
        self.lower = lower; self.upper = upper
    }

    public var description: String { "\(lower) to \(NumberText.grouped(upper))" }

    public func violation(_ n: Int) -> String? {
        if n < lower { return "must be at least \(lower), got \(n) (valid: \(self))" }
        if n > upper { return "must be at most \(NumberText.grouped(upper)), got \(NumberText.grouped(n)) (valid: \(self))" }
        return nil
    }
}

/// Every range a user's number is checked against, in one place (documented in
/// `docs/limits.md` and `docs/scenario-format.md`; the tests check the two agree with this).
///
/// The ranges are wide enough for real use and narrow enough that all arithmetic on them stays
/// exact or checked: the longest duration is a year (3.2e16 ns, far inside Int64's 9.2e18), the
/// slowest client rate 1e-9 per second, the largest cost 1e12 tokens.
public enum InputLimits {
    public static let nanosecond: Nanoseconds = 1
    public static let millisecond: Nanoseconds = 1_000_000
    public static let second: Nanoseconds = 1_000_000_000
    /// 365 days.
    public static let year: Nanoseconds = 365 * 86_400 * second

    // Client-side buckets: the library's own bounds (`BucketConfiguration`, `Rate`).
    /// Bucket capacity (`[limits] capacity`, `--capacity`).
    public static let capacity = ValidRange(1e-9, BucketConfiguration.maximumCapacity, unit: "tokens")
    /// Bucket refill (`[limits] refill`, `--refill`).
    public static let refill = ValidRange(Rate.minimumPerSecond, Rate.maximumPerSecond, unit: "tokens per second")

    // Clients.
    /// Requests per second of one client (steady, poisson, on-off `rate`; ramp `from`, `to`).
    public static let clientRate = ValidRange(1e-9, 1e9, unit: "requests per second")
    /// Ramp end points: 0 (silent) or a client rate.
    public static let rampRate = ValidRange(1e-9, 1e9, unit: "requests per second", zeroAllowed: true)
    /// An on-off client's `rate × on` (expected requests per on period): below this the
    /// generator would step through more than 1,000 silent periods per request.
    public static let minimumRequestsPerOnPeriod = 0.001
    /// Tokens a request costs (`cost = <number>`, replay's `cost` column). A cost above a
    /// bucket's capacity is refused at once (`rejected`), never clamped.
    public static let cost = ValidRange(1e-9, 1e12, unit: "tokens")
    /// `count` of one `[[clients]]` table.
    public static let clientCount = ValidCount(1, 100_000)
    /// All clients of a scenario together (Σ count).
    public static let totalClients = 100_000
    /// `concurrency` of one closed-loop client.
    public static let concurrency = ValidCount(1, 100_000)
    /// Requests kept outstanding by all closed-loop clients together (Σ count × concurrency),
    /// simulated.
    public static let totalConcurrency = 1_000_000
    /// The same in live mode, where each is a real task.
    public static let totalConcurrencyLive = 100_000
    /// `retries`.
    public static let retries = ValidCount(0, 100)
    /// `queue_limit`: waiters one bucket may hold; a request arriving at a full queue is rejected.
    public static let queueLimit = ValidCount(1, 1_000_000)

    // Durations.
    /// Run length (`duration`, `--duration`).
    public static let runDuration = ValidDuration(nanosecond, year)
    /// Durations that may be 0 (`off`, `think`, `retry_delay`).
    public static let anyDuration = ValidDuration(0, year)
    /// An on-off client's `on`: at least 1 µs, so that requests drawn to the nanosecond fit
    /// inside it (with `on = "1ns"` none ever could, and the generator would search forever).
    public static let onPeriod = ValidDuration(1_000, year)
    /// Durations that must be > 0 (`over`, `deadline`, `backoff_base`, `backoff_cap`).
    public static let positiveDuration = ValidDuration(nanosecond, year)
    /// The tuning rule's window: at least 100 ms, so the rule does not dominate the run.
    public static let tuningWindow = ValidDuration(100 * millisecond, year)

    // Upstream.
    /// `rpm`, `tpm`, `input_tpm`, `output_tpm`: the provider's buckets hold one minute's worth,
    /// so the library's capacity bound applies.
    public static let perMinute = ValidRange(0.001, BucketConfiguration.maximumCapacity, unit: "per minute")
    /// `ttft`, seconds.
    public static let ttft = ValidRange(0, 3_600, unit: "seconds")
    /// `tokens_per_s`: output speed.
    public static let tokensPerSecond = ValidRange(0.001, 1e9, unit: "tokens per second")

    // Tuning.
    public static let threshold = ValidRange(0, 1, unit: "")
    /// `cut` must be strictly between 0 and 1; checked as 1e-9 to 0.999999999.
    public static let cut = ValidRange(1e-9, 1 - 1e-9, unit: "")
    public static let raise = ValidRange(0, 10, unit: "")

    // Replicas (`[replicas]`).
    /// `count`: replicas behind the balancer.
    public static let replicaCount = ValidCount(1, 64)
    /// `store_rtt`: round trip between a replica and the shared store, 0 to 10 s.
    public static let storeRoundTrip = ValidDuration(0, 10 * second)
    /// `store_ops_per_s`: operations the shared store serves per second.
    public static let storeOpsPerSecond = ValidRange(1, 1e9, unit: "operations per second")
    /// `clock_skew`: largest offset of a replica's clock, 0 to 1 h.
    public static let clockSkew = ValidDuration(0, 3_600 * second)
    /// Buckets of all replicas together with local buckets (replicas × keys of the keying):
    /// each is a bucket with its own queue and counters.
    public static let replicaKeys = 1_000_000

    /// Estimated requests a run may simulate (Σ rate × duration over all clients); above it the
    /// run is refused at the door with what to lower (the simulator's own event budget catches
    /// what the estimate cannot see).
    public static let requestBudget: Double = 2e8
    /// Estimated requests per real second the dashboard may simulate (its rate × `--speed`).
    public static let dashboardRequestsPerSecond: Double = 2e6
}

/// Numbers in messages, as a user would write them back: `-1`, `0.5`, `1e-12`, `1e300`.
public enum NumberText {
    /// The shortest text that reads back as `x` (`1e-12`, not `0`; `1e9` for 10^9, `2500000`
    /// for other whole numbers).
    public static func format(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        if x != 0, abs(x) >= 1e6 || abs(x) < 1e-4, let k = Optional(Int(log10(abs(x)).rounded())),
           Double("1e\(k)") == abs(x) {
            return (x < 0 ? "-" : "") + "1e\(k)"
        }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        let s = "\(x)"
        // Swift writes 1e-09 and 1e+300; people write 1e-9 and 1e300.
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }), let exponent = Int(s[s.index(after: e)...]) else {
            return s
        }
        var mantissa = String(s[..<e])
        if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
        return "\(mantissa)e\(exponent)"
    }

    /// Two significant digits, for estimates: `7.9e9`, `250`, `0.42`.
    public static func approximate(_ x: Double) -> String {
        guard x.isFinite, x > 0 else { return format(x) }
        let k = Int(log10(x).rounded(.down))
        let mantissa = (x / pow(10, Double(k)) * 10).rounded() / 10   // 1.0 ... 10.0
        if k >= 6 || k <= -4 {
            let m = mantissa == mantissa.rounded() ? String(Int(mantissa)) : String(mantissa)
            return m == "10" ? "1e\(k + 1)" : "\(m)e\(k)"
        }
        let shift = pow(10, Double(1 - k))   // keeps two digits before the point
        return format((x * shift).rounded() / shift)
    }

    /// `100000` → "100,000".
    public static func grouped(_ n: Int) -> String {
        var digits = String(n.magnitude)
        var out = ""
        while digits.count > 3 {
            out = "," + digits.suffix(3) + out
            digits = String(digits.dropLast(3))
        }
        return (n < 0 ? "-" : "") + digits + out
    }
}
