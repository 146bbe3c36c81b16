/// A refill rate held as an exact fraction of tokens per second.
///
/// A rate such as 3/s has an emission interval of 333,333,333.3 ns, which no integer number of
/// nanoseconds represents; an accumulated rounding drifts by a millisecond every 3 million
/// tokens. Holding the rate as `numerator / denominator` tokens per second keeps every
/// admission time exact (see ``BucketState``).
///
/// ```swift
/// let r1 = try Rate(perSecond: 0.8)            // 4/5 tokens per second
/// let r2 = try Rate(500, per: .seconds(60))    // 25/3 tokens per second, exactly
/// ```
public struct Rate: Hashable, Sendable, CustomStringConvertible {
    /// Tokens per second = numerator / denominator, in lowest terms.
    public let numerator: Int64
    public let denominator: Int64

    /// Largest refill rate accepted, in tokens per second.
    public static let maximumPerSecond: Double = 1e9
    /// Smallest refill rate accepted, in tokens per second.
    public static let minimumPerSecond: Double = 1e-6

    /// The rate as a Double, for display.
    public var perSecond: Double { Double(numerator) / Double(denominator) }

    public var description: String {
        denominator == 1 ? "\(numerator)/s" : "\(numerator)/\(denominator) per s (\(perSecond)/s)"
    }

    /// An exact rate of `numerator / denominator` tokens per second.
    public init(numerator: Int64, denominator: Int64) throws {
        guard denominator > 0 else {
            throw BucketError.invalidParameter(name: "refill", value: Double(denominator), requirement: "a fraction with a positive denominator")
        }
        guard numerator > 0 else {
            throw BucketError.invalidParameter(name: "refill", value: Double(numerator) / Double(denominator), requirement: "> 0")
        }
        let g = Rate.gcd(numerator, denominator)
        let n = numerator / g, d = denominator / g
        guard d <= Rate.maxDenominator, Double(n) / Double(d) <= Rate.maximumPerSecond,
              Double(n) / Double(d) >= Rate.minimumPerSecond else {
            throw BucketError.invalidParameter(name: "refill", value: Double(n) / Double(d),
                                               requirement: "between \(Rate.minimumPerSecond) and \(Int64(Rate.maximumPerSecond)) tokens per second")
        }
        self.numerator = n
        self.denominator = d
    }

    /// `tokens` per `interval`, exactly when both are whole (500 per minute is 25/3 per second).
    public init(_ tokens: Double, per interval: Duration) throws {
        let (s, atto) = interval.components
        guard s >= 0, atto >= 0, s > 0 || atto > 0 else {
            throw BucketError.invalidParameter(name: "refill interval", value: Double(s) + Double(atto) * 1e-18, requirement: "> 0")
        }
        try Rate.check(tokens, name: "refill")
        // Whole tokens over a whole number of milliseconds stay exact.
        let ms = Double(s) * 1000 + Double(atto) / 1e15
        if tokens == tokens.rounded(), tokens < 1e12, ms == ms.rounded(), ms < 1e12 {
            try self.init(numerator: Int64(tokens) * 1000, denominator: Int64(ms))
        } else {
            try self.init(perSecond: tokens / (ms / 1000))
        }
    }

    /// The simplest fraction equal to `perSecond` as a Double (0.8 → 4/5; 20/3 as a Double → 20/3).
    public init(perSecond value: Double) throws {
        try Rate.check(value, name: "refill")
        let (n, d) = Rate.simplestFraction(value)
        try self.init(numerator: n, denominator: d)
    }

    static let maxDenominator: Int64 = 1_000_000_000

    static func check(_ value: Double, name: String) throws {
        guard value.isFinite else {
            throw BucketError.invalidParameter(name: name, value: value, requirement: "a finite number")
        }
        guard value > 0 else {
            throw BucketError.invalidParameter(name: name, value: value, requirement: "> 0")
        }
        guard value >= minimumPerSecond, value <= maximumPerSecond else {
            throw BucketError.invalidParameter(name: name, value: value,
                                               requirement: "between \(minimumPerSecond) and \(Int64(maximumPerSecond)) tokens per second")
        }
    }

    /// Continued-fraction expansion: the first convergent whose Double equals `value`, with the
    /// denominator capped at one billion (beyond that the closest convergent is used).
    static func simplestFraction(_ value: Double) -> (Int64, Int64) {
        var h0: Int64 = 0, h1: Int64 = 1, k0: Int64 = 1, k1: Int64 = 0
        var x = value
        for _ in 0..<64 {
            let a = x.rounded(.down)
            guard a < 9e18 else { break }
            let ai = Int64(a)
            let (h2, o1) = ai.multipliedReportingOverflow(by: h1)
            let (k2, o2) = ai.multipliedReportingOverflow(by: k1)
            guard !o1, !o2 else { break }
            let (hn, o3) = h2.addingReportingOverflow(h0)
            let (kn, o4) = k2.addingReportingOverflow(k0)
            guard !o3, !o4, kn <= maxDenominator else { break }
            h0 = h1; h1 = hn; k0 = k1; k1 = kn
            if Double(h1) / Double(k1) == value { break }
            let frac = x - a
            if frac <= 0 { break }
            x = 1 / frac
        }
        if k1 == 0 { return (Int64(value.rounded()), 1) }
        return (h1, k1)
    }

    static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var a = a.magnitude, b = b.magnitude
        while b != 0 { (a, b) = (b, a % b) }
        return Int64(a)
    }
}
