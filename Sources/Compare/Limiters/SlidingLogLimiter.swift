import DequeModule
import TokenBucket

/// The sliding-window log: the exact limit "at most `limit` in any window of length `window`".
///
/// Definition: the log holds every counted request of the last `window`: at `t`, entries at
/// or before `t − window` are dropped. A request of cost `c` is admitted if the logged costs plus
/// `c` are at most `limit`, and is then logged; a refused request is logged only when
/// `countRefused` is set. Any half-open interval `[a, a + window)` therefore holds at most
/// `limit` of admitted cost.
///
/// Exact, and the reference the other algorithms are measured against, but its state grows with
/// the traffic: one entry per request in the window.
///
/// ```swift
/// var log = try SlidingLogLimiter(limit: 2 * TokenUnits.perToken, window: 1_000_000_000)
/// log.decide(LimiterRequest(at: 0, cost: 2 * TokenUnits.perToken))               // admitted
/// log.decide(LimiterRequest(at: 999_999_999, cost: TokenUnits.perToken))         // refused
/// log.decide(LimiterRequest(at: 1_000_000_000, cost: TokenUnits.perToken))       // admitted
/// ```
public struct SlidingLogLimiter: Limiter {
    public let limit: Int64
    public let window: Nanoseconds
    public let countRefused: Bool
    private var log: Deque<(at: Nanoseconds, cost: Int64)> = []
    private var sum: Int64 = 0

    public init(limit: Int64, window: Nanoseconds, countRefused: Bool = false) throws {
        guard limit > 0 else { throw CompareError("window limit must be > 0, got \(limit) nano-tokens") }
        guard window > 0 else { throw CompareError("window must be > 0, got \(window) ns") }
        self.limit = limit; self.window = window; self.countRefused = countRefused
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        let horizon = request.at &- window
        while let first = log.first, first.at <= horizon {
            sum -= first.cost
            log.removeFirst()
        }
        if request.cost <= limit - sum {
            log.append((request.at, request.cost))
            sum += request.cost
            return .admit(at: request.at)
        }
        if countRefused, !sum.addingReportingOverflow(request.cost).overflow {
            log.append((request.at, request.cost))
            sum += request.cost
        }
        return .refuse
    }

    public func load(at now: Nanoseconds) -> Double {
        let horizon = now &- window
        let live = log.reduce(Int64(0)) { $1.at > horizon ? $0 + $1.cost : $0 }
        return Swift.min(1, Double(live) / Double(limit))
    }

    /// Entries in the log now.
    public var entries: Int { log.count }

    /// 16 bytes per logged request (instant and cost; 8 when every cost is 1).
    public var stateBytes: Int { 16 * log.count }
}
