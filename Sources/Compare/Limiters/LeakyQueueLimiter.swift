import TokenBucket

/// The leaky bucket as a queue: requests leave at a constant rate, and wait in a queue of
/// limited size until their turn; nginx's `limit_req` with `burst` and without `nodelay`.
///
/// Definition: requests leave in arrival order, the first at once, each next one no sooner than
/// `c / rate` after the previous one left (`c` the previous one's cost). A request arriving at
/// `t` leaves at `D = max(t, previous departure + previous cost / rate)`; the backlog ahead of
/// it is `(D − t) × rate` tokens. It is refused, changing nothing, when that backlog exceeds
/// `queueLimit` (nginx: `excess > burst`); otherwise it is admitted at `D` (a wait of `D − t`).
/// The output never exceeds `rate`: departures `i < j` are at least `Σ cost / rate` apart.
///
/// Times are scaled by the rate's numerator, exact; the admission instant is rounded up to the
/// next whole nanosecond.
///
/// ```swift
/// var lb = try LeakyQueueLimiter(rate: Rate(perSecond: 2), queueLimit: 2 * TokenUnits.perToken)
/// lb.decide(LimiterRequest(at: 0, cost: TokenUnits.perToken))   // .admit(at: 0)
/// lb.decide(LimiterRequest(at: 0, cost: TokenUnits.perToken))   // .admit(at: 500_000_000)
/// ```
public struct LeakyQueueLimiter: Limiter {
    public let rate: Rate
    /// Most nano-tokens that may wait ahead of an admitted request.
    public let queueLimit: Int64
    /// The earliest instant the next request may leave, × p.
    private var nextFree: Int128 = Int128(Int64.min) * Int128(Int64.max)

    public init(rate: Rate, queueLimit: Int64) throws {
        guard queueLimit >= 0 else { throw CompareError("queue limit must be >= 0, got \(queueLimit) nano-tokens") }
        self.rate = rate
        self.queueLimit = queueLimit
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        let p = Int128(rate.numerator), q = Int128(rate.denominator)
        let t = Int128(request.at) * p
        let departure = Swift.max(t, nextFree)
        // Backlog ahead, in nano-tokens × q: (D − t) ns × p/q nano-tokens per ns, times q.
        guard departure - t <= Int128(queueLimit) * q else { return .refuse }
        nextFree = departure + Int128(request.cost) * q
        return .admit(at: ceilDiv(departure, p))
    }

    public func load(at now: Nanoseconds) -> Double {
        guard queueLimit > 0 else { return nextFree > Int128(now) * Int128(rate.numerator) ? 1 : 0 }
        let ahead = Swift.max(0, nextFree - Int128(now) * Int128(rate.numerator))
        return Swift.min(1, Double(ahead) / Double(rate.denominator) / Double(queueLimit))
    }

    /// The next free instant (nginx keeps `excess` and `last`: 16 bytes as well).
    public var stateBytes: Int { 16 }
}
