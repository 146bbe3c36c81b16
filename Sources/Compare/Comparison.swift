import TokenBucket

/// One stream fed to several algorithms at once, with the measures `compare` reports.
///
/// Each algorithm gets its own limiter per key (or one shared limiter with `perKey: false`); the
/// exact sliding-window log always runs as well, as the reference for "wrongly admitted" and
/// "wrongly refused". Requests are fed one at a time in arrival order (``feed(_:)``), so the
/// same engine serves a whole trace and the dashboard's frames.
///
/// ```swift
/// var run = try Comparison(algorithms: Algorithm.allCases, budget: budget)
/// for r in traffic.requests { run.feed(r) }
/// let rows = run.results()
/// ```
public struct Comparison: Sendable {
    public let algorithms: [Algorithm]
    public let budget: Budget
    public let options: LimiterOptions
    public let perKey: Bool
    /// Whether every wait is kept for the percentiles of ``results()`` (memory grows with the
    /// stream); a dashboard that keeps its own recent waits turns it off.
    public let recordsWaits: Bool
    private var lanes: [Lane]
    /// Index of the sliding log among `lanes` (appended, unreported, if not asked for).
    private let reference: Int
    private var requestsPerKey: [Int] = []
    public private(set) var requests = 0
    /// Each lane's last decision, in `algorithms` order (for the dashboard's strip).
    public private(set) var lastDecisions: [Decision] = []

    struct Lane: Sendable {
        let algorithm: Algorithm
        /// A fresh limiter, copied for every new key.
        let prototype: any Limiter
        var limiters: [any Limiter] = []
        var peaks: [WindowPeak] = []
        var admittedPerKey: [Int] = []
        var admitted = 0
        var refused = 0
        var admittedCost: Int128 = 0
        /// Waits above zero (most requests of most algorithms wait zero).
        var waits: [Int64] = []
        var wronglyAdmitted = 0
        var wronglyRefused = 0
        var peakStateBytes = 0
    }

    public init(algorithms: [Algorithm], budget: Budget, options: LimiterOptions = LimiterOptions(),
                perKey: Bool = true, recordsWaits: Bool = true) throws {
        guard !algorithms.isEmpty else { throw CompareError("no algorithm to compare") }
        self.algorithms = algorithms
        self.budget = budget
        self.options = options
        self.perKey = perKey
        self.recordsWaits = recordsWaits
        // Every parameter is checked here, not on the first request.
        var lanes = try algorithms.map { Lane(algorithm: $0, prototype: try $0.limiter(budget, options)) }
        if let i = algorithms.firstIndex(of: .slidingLog) {
            reference = i
        } else {
            lanes.append(Lane(algorithm: .slidingLog, prototype: try Algorithm.slidingLog.limiter(budget, options)))
            reference = lanes.count - 1
        }
        self.lanes = lanes
        lastDecisions = Array(repeating: .refuse, count: algorithms.count)
    }

    /// Feeds one request (in arrival order) to every algorithm.
    public mutating func feed(_ request: TrafficRequest) {
        let k = Int(request.key)
        if k >= requestsPerKey.count { grow(to: k + 1) }
        requests += 1
        requestsPerKey[k] += 1
        let slot = perKey ? k : 0
        let r = LimiterRequest(at: request.at, cost: request.cost, service: request.service)
        let exact = decide(lane: reference, slot: slot, key: k, r).isAdmitted
        for i in lanes.indices where i != reference {
            let admitted = decide(lane: i, slot: slot, key: k, r).isAdmitted
            if admitted && !exact { lanes[i].wronglyAdmitted += 1 }
            if !admitted && exact { lanes[i].wronglyRefused += 1 }
        }
    }

    private mutating func decide(lane i: Int, slot: Int, key: Int, _ r: LimiterRequest) -> Decision {
        let d = lanes[i].limiters[slot].decide(r)
        lanes[i].peakStateBytes = Swift.max(lanes[i].peakStateBytes, lanes[i].limiters[slot].stateBytes)
        if let at = d.admittedAt {
            lanes[i].admitted += 1
            lanes[i].admittedPerKey[key] += 1
            lanes[i].admittedCost += Int128(r.cost)
            if recordsWaits, at > r.at { lanes[i].waits.append(at - r.at) }
            lanes[i].peaks[slot].add(at: at, cost: r.cost)
        } else {
            lanes[i].refused += 1
        }
        if i < lastDecisions.count { lastDecisions[i] = d }
        return d
    }

    private mutating func grow(to keys: Int) {
        requestsPerKey += Array(repeating: 0, count: keys - requestsPerKey.count)
        let slots = perKey ? keys : 1
        for i in lanes.indices {
            lanes[i].admittedPerKey += Array(repeating: 0, count: keys - lanes[i].admittedPerKey.count)
            while lanes[i].limiters.count < slots {
                lanes[i].limiters.append(lanes[i].prototype)
                lanes[i].peaks.append(WindowPeak(window: budget.window))
            }
        }
    }

    /// How close each algorithm's limiter for `key` is to its limit at `now` (0…1), in
    /// `algorithms` order; 0 for a key not seen yet.
    public func loads(key: Int, at now: Nanoseconds) -> [Double] {
        algorithms.indices.map { i in
            let slot = perKey ? key : 0
            return slot < lanes[i].limiters.count ? lanes[i].limiters[slot].load(at: now) : 0
        }
    }

    /// The measures so far, one row per algorithm in `algorithms` order.
    public func results() -> [AlgorithmResult] {
        algorithms.indices.map { i in
            let lane = lanes[i]
            let waits = lane.waits.sorted()
            func percentile(_ p: Double) -> Nanoseconds {
                guard lane.admitted > 0 else { return 0 }
                // Nearest rank over all admitted requests; the zero waits come first.
                let rank = Swift.max(1, Int((p / 100 * Double(lane.admitted)).rounded(.up)))
                let zeros = lane.admitted - waits.count
                return rank <= zeros ? 0 : waits[rank - zeros - 1]
            }
            return AlgorithmResult(
                algorithm: lane.algorithm, parameters: lane.algorithm.parameters(budget),
                requests: requests, admitted: lane.admitted, refused: lane.refused,
                admittedCost: Int64(clamping: lane.admittedCost),
                waitP50: percentile(50), waitP99: percentile(99), waitMax: waits.last ?? 0,
                maxInWindow: lane.peaks.reduce(0) { Swift.max($0, $1.peak) },
                wronglyAdmitted: lane.wronglyAdmitted, wronglyRefused: lane.wronglyRefused,
                stateBytesPerKey: lane.peakStateBytes,
                fairness: Comparison.jain(admitted: lane.admittedPerKey, requested: requestsPerKey))
        }
    }

    /// Jain's fairness index of the keys' admitted fractions `x_i = admitted_i / requested_i`:
    /// `(Σx)² / (n × Σx²)`, 1 when every key gets the same fraction, `1/n` when one key gets
    /// everything. Keys that sent nothing are left out; 1 with no key.
    public static func jain(admitted: [Int], requested: [Int]) -> Double {
        var sum = 0.0, squares = 0.0, n = 0
        for (a, r) in zip(admitted, requested) where r > 0 {
            let x = Double(a) / Double(r)
            sum += x; squares += x * x; n += 1
        }
        guard n > 0, squares > 0 else { return 1 }
        return sum * sum / (Double(n) * squares)
    }
}

/// One algorithm's row of a comparison.
public struct AlgorithmResult: Sendable, Hashable {
    public var algorithm: Algorithm
    /// Its parameters under the budget, in words.
    public var parameters: String
    public var requests: Int
    public var admitted: Int
    public var refused: Int
    /// Cost admitted, nano-tokens.
    public var admittedCost: Int64
    /// Wait from arrival to admission over admitted requests, ns (nearest rank).
    public var waitP50: Nanoseconds
    public var waitP99: Nanoseconds
    public var waitMax: Nanoseconds
    /// The most cost admitted in any window of the budget's length, one key's (the largest over
    /// keys), or all keys' with a shared limiter; nano-tokens.
    public var maxInWindow: Int64
    /// Admitted here but refused by the exact sliding log, and the reverse.
    public var wronglyAdmitted: Int
    public var wronglyRefused: Int
    /// Peak bytes of per-key state (the largest over keys).
    public var stateBytesPerKey: Int
    /// Jain's index of the keys' admitted fractions.
    public var fairness: Double
}
