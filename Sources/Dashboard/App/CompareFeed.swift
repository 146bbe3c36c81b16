import Compare
import Fleet
import TokenBucket

/// The compare view's model: the running fleet's arrivals fed to every rate-limiting algorithm
/// at once, with what the view shows of each (recent admissions and refusals, waits).
///
/// The fleet snapshot carries no arrival instants, only each key's request count (arrivals at
/// its bucket, retries included). So the arrivals fed here are each key's new requests since
/// the previous frame, spread evenly over that frame's interval of simulated time, each costing
/// one (request counting). Within a frame the order of arrivals is approximate; over seconds the
/// counts are exact.
///
/// The budget comes from the selected key's bucket (capacity B, refill R; windows of R × W per
/// W with W = B / R; concurrency R × 1 s, every request in progress for 1 s). Editing capacity or
/// refill changes that bucket, and at the next frame every algorithm restarts on the new budget
/// (selecting another key with the same bucket changes only which key's state the gauges show).
///
/// ```swift
/// var feed = CompareFeed(snapshot, budgetFrom: state.selected(snapshot))
/// feed.observe(nextSnapshot, budgetFrom: state.selected(nextSnapshot))
/// ```
public struct CompareFeed: Sendable, Equatable {
    /// Simulated time per bin of the admit/refuse strip.
    public static let binWidth: Nanoseconds = 100_000_000
    /// Bins kept: one minute.
    public static let binsKept = 600
    /// The window the rates and p99 are over.
    public static let recentWindow: Nanoseconds = 10_000_000_000
    /// Service time given to every request, for the concurrency limit.
    public static let serviceTime: Nanoseconds = 1_000_000_000

    public let algorithms: [Algorithm] = Algorithm.allCases
    public private(set) var comparison: Comparison?
    /// The bucket the budget was taken from: key, capacity, refill.
    public private(set) var budgetKey: String?
    public private(set) var capacity: Double = 0
    public private(set) var refill: Double = 0
    /// Why no comparison is running (no key, or a budget the algorithms refuse).
    public private(set) var problem: String?
    /// Simulated time of the last snapshot observed.
    public private(set) var now: Nanoseconds
    private var counts: [String: Int] = [:]
    private var keyIndex: [String: Int32] = [:]
    /// Absolute index (time / binWidth) of `admittedBins[_][0]`.
    private var firstBin: Int64
    private var admittedBins: [[Int32]]
    private var refusedBins: [[Int32]]
    /// Per algorithm: admissions of the recent window (instant, wait), for admitted/s and p99.
    private var recent: [[(at: Nanoseconds, wait: Nanoseconds)]]
    public private(set) var refused: [Int]
    /// Changes on every observation, so `DashboardState` stays cheaply comparable.
    private var generation = 0

    public init(_ snapshot: FleetSnapshot, budgetFrom key: KeySnapshot?) {
        now = snapshot.now
        firstBin = snapshot.now / CompareFeed.binWidth
        admittedBins = Array(repeating: [], count: Algorithm.allCases.count)
        refusedBins = admittedBins
        recent = Array(repeating: [], count: Algorithm.allCases.count)
        refused = Array(repeating: 0, count: Algorithm.allCases.count)
        for k in snapshot.keys { counts[k.key] = k.requests }
        rebuild(key)
    }

    public static func == (a: CompareFeed, b: CompareFeed) -> Bool {
        a.generation == b.generation && a.now == b.now && a.budgetKey == b.budgetKey
    }

    /// Restarts every algorithm on the budget of `key`'s bucket.
    private mutating func rebuild(_ key: KeySnapshot?) {
        budgetKey = key?.key
        capacity = key?.capacity ?? 0
        refill = key?.refillPerSecond ?? 0
        comparison = nil
        keyIndex = [:]
        guard let key else { problem = "no bucket to take a budget from"; return }
        do {
            let rate = try Rate(perSecond: key.refillPerSecond)
            let burst = TokenUnits.units(key.capacity)
            let window = Int64(clamping: (Int128(burst) * Int128(rate.denominator) + Int128(rate.numerator) - 1)
                / Int128(rate.numerator))
            let inProgress = Swift.max(1, Int64((key.refillPerSecond * Double(CompareFeed.serviceTime) / 1e9).rounded(.up)))
            let budget = try Budget(rate: rate, burst: burst, window: Swift.max(1, window),
                                    concurrency: inProgress * TokenUnits.perToken)
            comparison = try Comparison(algorithms: algorithms, budget: budget, recordsWaits: false)
            problem = nil
        } catch {
            problem = "\(error)"
        }
    }

    /// Feeds the arrivals since the previous snapshot; restarts on a new budget or a restarted
    /// fleet (time going backwards).
    public mutating func observe(_ snapshot: FleetSnapshot, budgetFrom key: KeySnapshot?) {
        generation &+= 1
        if snapshot.now < now {
            self = CompareFeed(snapshot, budgetFrom: key)
            return
        }
        if key == nil || key?.capacity != capacity || key?.refillPerSecond != refill {
            rebuild(key)
        } else {
            budgetKey = key?.key   // another key with the same bucket: the rows carry on
        }
        let from = now, span = snapshot.now - now
        var arrivals: [(at: Nanoseconds, key: Int32)] = []
        for k in snapshot.keys {
            let new = k.requests - counts[k.key, default: 0]
            counts[k.key] = k.requests
            guard new > 0, comparison != nil else { continue }
            let index = keyIndex[k.key] ?? {
                let i = Int32(keyIndex.count)
                keyIndex[k.key] = i
                return i
            }()
            for i in 1...new {
                arrivals.append((from + Nanoseconds(Int128(span) * Int128(i) / Int128(new)), index))
            }
        }
        now = snapshot.now
        arrivals.sort { ($0.at, $0.key) < ($1.at, $1.key) }
        if var run = comparison {
            for a in arrivals {
                run.feed(TrafficRequest(at: a.at, key: a.key, cost: TokenUnits.perToken, service: CompareFeed.serviceTime))
                for (i, d) in run.lastDecisions.enumerated() { record(i, d, arrival: a.at) }
            }
            comparison = run
        }
        trim()
    }

    private mutating func record(_ i: Int, _ d: Decision, arrival: Nanoseconds) {
        let t = d.admittedAt ?? arrival
        let bin = Int(t / CompareFeed.binWidth - firstBin)
        guard bin >= 0 else { return }
        while admittedBins[i].count <= bin {
            admittedBins[i].append(0)
            refusedBins[i].append(0)
        }
        if let at = d.admittedAt {
            admittedBins[i][bin] += 1
            recent[i].append((at, at - arrival))
        } else {
            refusedBins[i][bin] += 1
            refused[i] += 1
        }
    }

    private mutating func trim() {
        let excess = Int(now / CompareFeed.binWidth - firstBin) - CompareFeed.binsKept
        if excess > 0 {
            for i in admittedBins.indices {
                admittedBins[i].removeFirst(Swift.min(excess, admittedBins[i].count))
                refusedBins[i].removeFirst(Swift.min(excess, refusedBins[i].count))
            }
            firstBin += Int64(excess)
        }
        let horizon = now - CompareFeed.recentWindow
        for i in recent.indices {
            // Queued admissions can lie in the future; only those that left the window go.
            if let cut = recent[i].firstIndex(where: { $0.at > horizon }) {
                recent[i].removeFirst(cut)
            } else {
                recent[i].removeAll()
            }
        }
    }

    // MARK: Read-outs for the view

    /// Admitted per second over the recent window, all keys.
    public func admittedPerSecond(_ i: Int) -> Double {
        let n = recent[i].filter { $0.at <= now }.count
        let span = Swift.min(CompareFeed.recentWindow, Swift.max(1, now - firstBin * CompareFeed.binWidth))
        return Double(n) / (Double(span) / 1e9)
    }

    /// p99 wait over the recent window's admissions (nearest rank), ns.
    public func p99Wait(_ i: Int) -> Nanoseconds {
        let waits = recent[i].map(\.wait).sorted()
        guard !waits.isEmpty else { return 0 }
        return waits[Swift.max(0, Int((0.99 * Double(waits.count)).rounded(.up)) - 1)]
    }

    /// How close algorithm `i`'s limiter for `key` is to its limit now, 0…1.
    public func load(_ i: Int, key: String?) -> Double {
        guard let comparison, let k = key.flatMap({ keyIndex[$0] }) else { return 0 }
        return comparison.loads(key: Int(k), at: now)[i]
    }

    /// Admitted and refused in each of the last `count` spans of `binsPer` bins, oldest first.
    public func strip(_ i: Int, count: Int, binsPer: Int) -> [(admitted: Int, refused: Int)] {
        let last = Int(now / CompareFeed.binWidth - firstBin)   // the bin holding `now`
        return (0..<count).map { c in
            let end = last - (count - 1 - c) * binsPer   // inclusive
            var a = 0, r = 0
            if end >= 0 {
                for b in Swift.max(0, end - binsPer + 1)...end where b < admittedBins[i].count {
                    a += Int(admittedBins[i][b])
                    r += Int(refusedBins[i][b])
                }
            }
            return (a, r)
        }
    }
}
