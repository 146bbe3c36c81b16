import TokenBucket

/// How a fixed window is placed in time.
public enum WindowAlignment: String, Sendable, CaseIterable {
    /// Windows `[k × W, (k + 1) × W)` on the shared timeline (Redis `INCR` on a key named
    /// after the minute, most API gateways).
    case clock
    /// A window opens at the first request after the previous window ended, and lasts `W`.
    case firstRequest = "first-request"
}

/// The fixed window counter: at most `limit` per window of length `window`, the count starting
/// again from zero when a new window opens.
///
/// Definition: a request of cost `c` is admitted if `count + c ≤ limit` and then `count += c`;
/// otherwise it is refused, and added to the count anyway when `countRefused` is set (counters
/// that increment before they compare). Windows are aligned by ``WindowAlignment``.
///
/// Its known flaw: `limit` just before a boundary and `limit` just after it, so `2 × limit`
/// within one window length.
///
/// ```swift
/// var fw = try FixedWindowLimiter(limit: 5 * TokenUnits.perToken, window: 1_000_000_000)
/// fw.decide(LimiterRequest(at: 999_000_000, cost: 5 * TokenUnits.perToken))   // admitted
/// fw.decide(LimiterRequest(at: 1_000_000_000, cost: 5 * TokenUnits.perToken)) // admitted: new window
/// ```
public struct FixedWindowLimiter: Limiter {
    public let limit: Int64
    public let window: Nanoseconds
    public let alignment: WindowAlignment
    public let countRefused: Bool
    private var start: Nanoseconds = .min
    private var count: Int64 = 0

    public init(limit: Int64, window: Nanoseconds, alignment: WindowAlignment = .clock,
                countRefused: Bool = false) throws {
        guard limit > 0 else { throw CompareError("window limit must be > 0, got \(limit) nano-tokens") }
        guard window > 0 else { throw CompareError("window must be > 0, got \(window) ns") }
        self.limit = limit; self.window = window; self.alignment = alignment; self.countRefused = countRefused
    }

    /// The window holding `t`: its start, and whether it is a new one.
    private func windowStart(at t: Nanoseconds) -> Nanoseconds {
        switch alignment {
        case .clock:
            return floorDiv(t, window) * window
        case .firstRequest:
            return start != .min && t < start &+ window ? start : t
        }
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        let ws = windowStart(at: request.at)
        if ws != start {
            start = ws
            count = 0
        }
        if request.cost <= limit - count {
            count += request.cost
            return .admit(at: request.at)
        }
        if countRefused { count = count.addingReportingOverflow(request.cost).overflow ? .max : count + request.cost }
        return .refuse
    }

    public func load(at now: Nanoseconds) -> Double {
        windowStart(at: now) == start ? Swift.min(1, Double(count) / Double(limit)) : 0
    }

    /// The window's start and its count.
    public var stateBytes: Int { 16 }
}
