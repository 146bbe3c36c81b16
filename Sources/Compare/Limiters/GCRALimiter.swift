import TokenBucket

/// The generic cell rate algorithm in its "virtual scheduling" form (ITU-T I.371), written out
/// on its own to show that it decides exactly as the token bucket of the same capacity and rate.
///
/// Definition: the emission interval is `T = 1 / rate` seconds per token, a request of cost `c`
/// has increment `I = c × T`, and the tolerance for it is `τ = capacity × T − I`. The state is
/// the theoretical arrival time `TAT`. A request at `t` conforms if `TAT ≤ t + τ`; then
/// `TAT ← max(TAT, t) + I`. A non-conforming request is refused and changes nothing. A cost
/// above `capacity` (negative tolerance) never conforms.
///
/// All quantities are scaled by the rate's numerator `p` (rate = `p/q` tokens per second, costs
/// in nano-tokens), so `T` per nano-token is the integer `q` and every step is exact.
///
/// ```swift
/// var g = try GCRALimiter(rate: Rate(perSecond: 2), capacity: 10 * TokenUnits.perToken)
/// g.decide(LimiterRequest(at: 0, cost: 10 * TokenUnits.perToken))   // .admit(at: 0)
/// ```
public struct GCRALimiter: Limiter {
    public let rate: Rate
    public let capacity: Int64
    /// TAT × p (ns × p). Starts far in the past: the first request always conforms.
    private var tat: Int128 = Int128(Int64.min) * Int128(Int64.max)

    public init(rate: Rate, capacity: Int64) throws {
        guard capacity > 0 else { throw CompareError("capacity must be > 0, got \(capacity) nano-tokens") }
        self.rate = rate
        self.capacity = capacity
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        let p = Int128(rate.numerator), q = Int128(rate.denominator)
        let t = Int128(request.at) * p
        let increment = Int128(request.cost) * q
        let tolerance = Int128(capacity) * q - increment
        guard tolerance >= 0, tat <= t + tolerance else { return .refuse }
        tat = Swift.max(tat, t) + increment
        return .admit(at: request.at)
    }

    public func load(at now: Nanoseconds) -> Double {
        let ahead = Swift.max(0, tat - Int128(now) * Int128(rate.numerator))   // used tokens × q
        return Swift.min(1, Double(ahead) / Double(rate.denominator) / Double(capacity))
    }

    /// One theoretical arrival time per key (128 bits here for exactness; 8 bytes in
    /// implementations that round it to whole nanoseconds).
    public var stateBytes: Int { 16 }
}
