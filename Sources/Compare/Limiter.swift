import TokenBucket

/// One request as a limiter sees it: when it arrives, what it costs, and how long it holds a
/// slot once admitted (only the concurrency limit reads that).
///
/// ```swift
/// let r = LimiterRequest(at: 1_000_000_000, cost: TokenUnits.perToken, service: 500_000_000)
/// ```
public struct LimiterRequest: Sendable, Hashable {
    /// Arrival instant, ns. A limiter is fed requests in non-decreasing arrival order.
    public var at: Nanoseconds
    /// Cost in nano-tokens (`TokenUnits.perToken` is one token, or one request).
    public var cost: Int64
    /// How long the request is in progress after its admission, ns.
    public var service: Nanoseconds

    public init(at: Nanoseconds, cost: Int64, service: Nanoseconds = 0) {
        self.at = at; self.cost = cost; self.service = service
    }
}

/// What a limiter decides for one request.
public enum Decision: Sendable, Hashable {
    /// Admitted at this instant: the arrival instant (no wait) or later (queued).
    case admit(at: Nanoseconds)
    /// Refused: the caller answers 429 (or 503, as nginx does).
    case refuse

    /// The admission instant, nil when refused.
    public var admittedAt: Nanoseconds? {
        if case .admit(let t) = self { return t }
        return nil
    }

    public var isAdmitted: Bool { admittedAt != nil }
}

/// A rate limiter as a pure value: every decision takes the time from the request, nothing
/// reads a clock, so the same code serves a recorded trace, a simulated fleet and a test.
///
/// Each conforming type documents the one definition it implements. Requests are fed in
/// non-decreasing arrival order; a request whose cost can never fit is refused.
///
/// ```swift
/// var l = try SlidingLogLimiter(limit: 10 * TokenUnits.perToken, window: 1_000_000_000)
/// l.decide(LimiterRequest(at: 0, cost: TokenUnits.perToken))   // .admit(at: 0)
/// ```
public protocol Limiter: Sendable {
    /// Decides one request and updates the state.
    mutating func decide(_ request: LimiterRequest) -> Decision

    /// How close to its limit the state is at `now`, from 0 (idle) to 1 (at the limit): used
    /// tokens of the bucket, the window's count, the queue's backlog, the slots in use.
    func load(at now: Nanoseconds) -> Double

    /// Bytes of per-key state this algorithm needs now: the fields a keyed store keeps for
    /// each key (shared parameters excluded). Grows with traffic only for the sliding log.
    var stateBytes: Int { get }
}

/// Integer division rounding toward negative infinity (for instants before 0).
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let (q, r) = a.quotientAndRemainder(dividingBy: b)
    return r < 0 ? q - 1 : q
}

/// Integer division rounding up, for positive divisors.
@inline(__always)
func ceilDiv(_ a: Int128, _ b: Int128) -> Int64 {
    let (q, r) = a.quotientAndRemainder(dividingBy: b)
    return Int64(clamping: r > 0 ? q + 1 : q)
}
