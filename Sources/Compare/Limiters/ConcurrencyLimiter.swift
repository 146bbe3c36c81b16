import HeapModule
import TokenBucket

/// The concurrency limit: at most `cap` of cost in progress at once (requests in flight, when
/// every cost is 1).
///
/// Definition: an admitted request is in progress from its arrival until `arrival + service`
/// (the service time comes with the request). A request of cost `c` arriving at `t` is admitted
/// if the cost still in progress at `t` (requests ending at or before `t` have finished) plus
/// `c` is at most `cap`; otherwise it is refused. It bounds work in progress, not rate: short
/// requests pass at any rate.
///
/// ```swift
/// var cl = try ConcurrencyLimiter(cap: 2 * TokenUnits.perToken)
/// cl.decide(LimiterRequest(at: 0, cost: TokenUnits.perToken, service: 1_000_000_000))   // admitted
/// ```
public struct ConcurrencyLimiter: Limiter {
    public let cap: Int64
    private var ends = Heap<InFlight>()
    public private(set) var inProgress: Int64 = 0

    struct InFlight: Comparable, Sendable {
        var end: Nanoseconds
        var cost: Int64
        static func < (a: InFlight, b: InFlight) -> Bool { a.end < b.end }
    }

    public init(cap: Int64) throws {
        guard cap > 0 else { throw CompareError("concurrency cap must be > 0, got \(cap) nano-tokens") }
        self.cap = cap
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        while let first = ends.min, first.end <= request.at {
            inProgress -= first.cost
            _ = ends.popMin()
        }
        guard request.cost <= cap - inProgress else { return .refuse }
        inProgress += request.cost
        ends.insert(InFlight(end: request.at &+ Swift.max(0, request.service), cost: request.cost))
        return .admit(at: request.at)
    }

    public func load(at now: Nanoseconds) -> Double {
        let live = ends.unordered.reduce(Int64(0)) { $1.end > now ? $0 + $1.cost : $0 }
        return Swift.min(1, Double(live) / Double(cap))
    }

    /// The in-progress count; the completion instants live with the requests themselves.
    public var stateBytes: Int { 8 }
}
