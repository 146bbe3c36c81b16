import TokenBucket

/// The sliding-window counter (Cloudflare, "How we built rate limiting capable of scaling to
/// millions of domains", 2017): two fixed-window counters, the previous one weighted by how much
/// of it the sliding window still overlaps.
///
/// Definition: windows are clock-aligned, `[k × W, (k + 1) × W)`. At `t`, `e = t − start of the
/// current window`, and the estimate is `previous × (W − e) / W + current`. A request of cost
/// `c` is admitted if `estimate + c ≤ limit` (compared exactly, as
/// `previous × (W − e) + (current + c) × W ≤ limit × W`), and added to `current`; refused ones
/// are added only when `countRefused` is set. It assumes the previous window's requests were
/// spread evenly, which is where it errs.
///
/// ```swift
/// var sc = try SlidingCounterLimiter(limit: 10 * TokenUnits.perToken, window: 1_000_000_000)
/// sc.decide(LimiterRequest(at: 0, cost: 10 * TokenUnits.perToken))           // admitted
/// sc.decide(LimiterRequest(at: 1_500_000_000, cost: 6 * TokenUnits.perToken)) // refused: 10 × 0.5 + 6 > 10
/// ```
public struct SlidingCounterLimiter: Limiter {
    public let limit: Int64
    public let window: Nanoseconds
    public let countRefused: Bool
    private var start: Nanoseconds = .min
    private var previous: Int64 = 0
    private var current: Int64 = 0

    public init(limit: Int64, window: Nanoseconds, countRefused: Bool = false) throws {
        guard limit > 0 else { throw CompareError("window limit must be > 0, got \(limit) nano-tokens") }
        guard window > 0 else { throw CompareError("window must be > 0, got \(window) ns") }
        self.limit = limit; self.window = window; self.countRefused = countRefused
    }

    /// The counters as of `t`: (start, previous, current).
    private func rolled(to t: Nanoseconds) -> (Nanoseconds, Int64, Int64) {
        let ws = floorDiv(t, window) * window
        if ws == start { return (start, previous, current) }
        if start != .min, ws == start &+ window { return (ws, current, 0) }
        return (ws, 0, 0)
    }

    /// The estimate × W at `t` with `extra` more in the current window.
    private func scaledEstimate(at t: Nanoseconds, extra: Int64) -> Int128 {
        let (ws, prev, cur) = rolled(to: t)
        let e = t - ws
        return Int128(prev) * Int128(window - e) + (Int128(cur) + Int128(extra)) * Int128(window)
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        (start, previous, current) = rolled(to: request.at)
        if scaledEstimate(at: request.at, extra: request.cost) <= Int128(limit) * Int128(window) {
            current += request.cost
            return .admit(at: request.at)
        }
        if countRefused, !current.addingReportingOverflow(request.cost).overflow { current += request.cost }
        return .refuse
    }

    public func load(at now: Nanoseconds) -> Double {
        Swift.min(1, Double(scaledEstimate(at: now, extra: 0)) / Double(window) / Double(limit))
    }

    /// The current window's start and the two counters.
    public var stateBytes: Int { 24 }
}
