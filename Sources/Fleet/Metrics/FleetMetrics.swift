import TokenBucket

/// Every counter, percentile and time series of a fleet, recorded by the fleet core (for every
/// driver that runs it) or by a ``TrafficLedger`` (requests from outside). Nothing here knows
/// about events or clocks beyond the instants passed in.
///
/// Keys and groups are registered once (a group of -1 records for the key only: a parent
/// bucket in hierarchical keying) and then addressed by integer index, so recording is a
/// handful of array stores (no strings, no hashing, no allocation on the hot path).
///
/// ```swift
/// var m = FleetMetrics()
/// let g = m.addGroup("quiet", clients: 4)
/// let k = m.addKey("user-1", group: "quiet", capacity: 10, refillPerSecond: 2)
/// m.arrived(key: k, group: g)
/// m.admitted(key: k, group: g, wait: 0, at: 0)
/// ```
///
/// Conservation, per key: `requests = admitted + rejected + timedOut + moved + waiting`.
public struct FleetMetrics: Sendable {
    /// Spacing of the time-series samples.
    public let sampleInterval: Nanoseconds
    /// Samples kept per series.
    public let seriesLength: Int

    public struct KeyRecord: Sendable {
        public var name: String
        public var group: String
        public var capacity: Double
        public var refillPerSecond: Double
        public var requests = 0
        public var admitted = 0
        public var rejected = 0
        public var timedOut = 0
        /// Waiters moved to another key by a keying switch.
        public var moved = 0
        public var upstream429 = 0
        public var waiting = 0
        public var maxQueue = 0
        public var waits = WaitRecorder()
        var admittedPerSecond: RingSeries
        var tokenSeries: RingSeries
        var queueSeries: RingSeries
        /// Index of the last sample boundary written (boundary i is at i × sampleInterval).
        var lastSample: Int64 = 0
        var hasSeries = true
        var admittedInInterval = 0
        var cachedWaits = WaitPercentiles()
        var cachedAtCount: UInt64 = 0
    }

    public struct GroupRecord: Sendable {
        public var name: String
        public var clients: Int
        public var requests = 0
        public var admitted = 0
        public var rejected = 0
        public var timedOut = 0
        public var upstream429 = 0
        public var waits = WaitRecorder()
        var intervalWaits = IntervalWaits()
        var admittedInInterval = 0
        var throughputSeries: RingSeries
        var p99Series: RingSeries
    }

    public struct UpstreamRecord: Sendable {
        public var requests = 0
        public var status429 = 0
        public var inFlight = 0
        var requestsWindow = SecondWindow(seconds: 60)
        var tokensWindow = SecondWindow(seconds: 60)
        var recentRequests = SecondWindow(seconds: 10)
        var recent429 = SecondWindow(seconds: 10)
    }

    public private(set) var keys: [KeyRecord] = []
    public private(set) var groups: [GroupRecord] = []
    public private(set) var upstream = UpstreamRecord()
    /// Per key that has had waiters in a snapshot: its recorded waits' ranks and the count they
    /// were taken at (out of line: most keys of a large fleet never need them).
    private var ranksCache: [Int: (count: UInt64, ranks: WaitRanks)] = [:]
    private var lastGroupSample: Int64 = 0

    public init(sampleInterval: Nanoseconds = 500_000_000, seriesLength: Int = 120) {
        self.sampleInterval = sampleInterval
        self.seriesLength = seriesLength
    }

    // MARK: Registration

    public mutating func addGroup(_ name: String, clients: Int) -> Int {
        groups.append(GroupRecord(name: name, clients: clients, throughputSeries: RingSeries(capacity: seriesLength),
                                  p99Series: RingSeries(capacity: seriesLength)))
        return groups.count - 1
    }

    /// Registers a key (bucket) at `now` (its series start there).
    ///
    /// `series: false` keeps counters and percentiles but no time series: a fleet of 10,000
    /// per-user keys charts only the first few hundred (a dashboard shows a few dozen), so memory
    /// and the cost of sampling stay bounded.
    public mutating func addKey(_ name: String, group: String, capacity: Double, refillPerSecond: Double,
                                at now: Nanoseconds = 0, series: Bool = true) -> Int {
        let n = series ? seriesLength : 1
        var r = KeyRecord(name: name, group: group, capacity: capacity, refillPerSecond: refillPerSecond,
                          admittedPerSecond: RingSeries(capacity: n), tokenSeries: RingSeries(capacity: n),
                          queueSeries: RingSeries(capacity: n))
        r.hasSeries = series
        r.lastSample = r.hasSeries ? now / sampleInterval : .max
        keys.append(r)
        return keys.count - 1
    }

    public mutating func setConfiguration(key: Int, capacity: Double, refillPerSecond: Double) {
        keys[key].capacity = capacity
        keys[key].refillPerSecond = refillPerSecond
    }

    // MARK: Recording (hot path)

    /// A request (first try or retry) reached the client-side limiter.
    @inline(__always)
    public mutating func arrived(key: Int, group: Int) {
        keys[key].requests &+= 1
        if group >= 0 { groups[group].requests &+= 1 }
    }

    /// It has to wait: the key's queue grew.
    @inline(__always)
    public mutating func enqueued(key: Int) {
        keys[key].waiting &+= 1
        if keys[key].waiting > keys[key].maxQueue { keys[key].maxQueue = keys[key].waiting }
    }

    /// Admitted after `wait` nanoseconds; `wasQueued` when it had been counted by ``enqueued(key:)``.
    @inline(__always)
    public mutating func admitted(key: Int, group: Int, wait: Nanoseconds, at now: Nanoseconds, wasQueued: Bool) {
        if wasQueued { keys[key].waiting &-= 1 }
        keys[key].admitted &+= 1
        keys[key].admittedInInterval &+= 1
        keys[key].waits.record(wait)
        guard group >= 0 else { return }
        groups[group].admitted &+= 1
        groups[group].admittedInInterval &+= 1
        groups[group].waits.record(wait)
        groups[group].intervalWaits.record(wait)
    }

    /// Refused at the limiter at once (deadline or cost), consuming nothing.
    @inline(__always)
    public mutating func rejected(key: Int, group: Int) {
        keys[key].rejected &+= 1
        if group >= 0 { groups[group].rejected &+= 1 }
    }

    /// Undoes ``enqueued(key:)`` for a request refused after all: a ``TrafficLedger`` may hear
    /// that a request waits before its limiter refuses it (record that with
    /// ``rejected(key:group:)``).
    @inline(__always)
    public mutating func dequeued(key: Int) { keys[key].waiting &-= 1 }

    /// Gave up while waiting (its deadline passed after a re-plan).
    public mutating func timedOut(key: Int, group: Int, wasQueued: Bool) {
        if wasQueued { keys[key].waiting &-= 1 }
        keys[key].timedOut &+= 1
        if group >= 0 { groups[group].timedOut &+= 1 }
    }

    /// A waiter left this key for another one on a keying switch.
    public mutating func moved(key: Int) {
        keys[key].waiting &-= 1
        keys[key].moved &+= 1
    }

    /// The provider answered a request sent by `key` (nil when the key is unknown).
    @inline(__always)
    public mutating func upstreamAnswered(key: Int, group: Int, tokens: Double, status429: Bool, at now: Nanoseconds) {
        upstream.requests &+= 1
        upstream.requestsWindow.add(1, at: now)
        upstream.recentRequests.add(1, at: now)
        if status429 {
            upstream.status429 &+= 1
            upstream.recent429.add(1, at: now)
            keys[key].upstream429 &+= 1
            groups[group].upstream429 &+= 1
        } else {
            upstream.tokensWindow.add(tokens, at: now)
        }
    }

    public mutating func upstreamInFlight(_ delta: Int) { upstream.inFlight &+= delta }

    /// Tokens a request used, learnt after its answer began (a gateway reads a stream's usage
    /// at its end): counted in the provider's last minute at `now`.
    public mutating func upstreamUsed(tokens: Double, at now: Nanoseconds) { upstream.tokensWindow.add(tokens, at: now) }

    // MARK: Time series

    /// Whether ``catchUp(key:to:tokens:)`` has samples to write at `now`.
    @inline(__always)
    public func needsCatchUp(key: Int, at now: Nanoseconds) -> Bool { now / sampleInterval > keys[key].lastSample }

    /// Writes the key's samples for every boundary up to `now`. `balance` reads the bucket's
    /// level (negative when in debt) at the first boundary passed; later boundaries follow from
    /// the key's refill and capacity, since nothing touched the bucket in between. Call it
    /// before changing the key's bucket or queue at `now`.
    /// - Complexity: O(min(boundaries passed, seriesLength)), one `balance` read.
    @inline(__always)
    public mutating func catchUp(key: Int, to now: Nanoseconds, balance: (Nanoseconds) -> Double) {
        let target = now / sampleInterval
        let last = keys[key].lastSample
        guard target > last else { return }
        catchUpSlow(key: key, from: last, to: target, balance: balance)
    }

    private mutating func catchUpSlow(key k: Int, from last: Int64, to target: Int64, balance: (Nanoseconds) -> Double) {
        let perSecond = 1e9 / Double(sampleInterval)
        let first = Swift.max(last + 1, target - Int64(seriesLength) + 1)
        let queue = Double(keys[k].waiting)
        var admittedThen = Double(keys[k].admittedInInterval) * perSecond
        if first > last + 1 { admittedThen = 0 }
        let b0 = balance(first * sampleInterval)
        let step = keys[k].refillPerSecond / perSecond
        let cap = keys[k].capacity
        for i in first...target {
            let level = Swift.min(cap, b0 + step * Double(i - first))
            keys[k].admittedPerSecond.append(admittedThen)
            keys[k].tokenSeries.append(Swift.max(0, level))
            keys[k].queueSeries.append(queue)
            admittedThen = 0
        }
        keys[k].admittedInInterval = 0
        keys[k].lastSample = target
    }

    /// Writes the groups' samples for every boundary up to `now`.
    public mutating func sampleGroups(to now: Nanoseconds) {
        let target = now / sampleInterval
        guard target > lastGroupSample else { return }
        let perSecond = 1e9 / Double(sampleInterval)
        for g in groups.indices {
            let steps = Swift.min(target - lastGroupSample, Int64(seriesLength))
            for s in 0..<steps {
                let first = s == 0
                groups[g].throughputSeries.append(first ? Double(groups[g].admittedInInterval) * perSecond : 0)
                groups[g].p99Series.append(first ? groups[g].intervalWaits.value(atPercentile: 99) : 0)
            }
            groups[g].admittedInInterval = 0
            groups[g].intervalWaits.reset()
        }
        lastGroupSample = target
    }

    // MARK: Read-outs

    /// Wait percentiles of a key, recomputed only when new waits were recorded.
    public mutating func waitPercentiles(key: Int) -> WaitPercentiles {
        let c = keys[key].waits.count
        if c != keys[key].cachedAtCount {
            keys[key].cachedWaits = keys[key].waits.percentiles()
            keys[key].cachedAtCount = c
        }
        return keys[key].cachedWaits
    }

    /// Wait percentiles of a key counting requests still waiting (their waits so far, ns); the
    /// recorded waits' ranks are kept until new waits are recorded.
    public mutating func waitPercentiles(key: Int, includingPending pending: [Int64]) -> WaitPercentiles {
        let c = keys[key].waits.count
        if let cached = ranksCache[key], cached.count == c { return cached.ranks.percentiles(includingPending: pending) }
        let ranks = keys[key].waits.ranks()
        ranksCache[key] = (c, ranks)
        return ranks.percentiles(includingPending: pending)
    }

    /// Upstream 429s / requests over the last 10 s.
    public func recent429Rate(at now: Nanoseconds) -> Double {
        let r = upstream.recentRequests.sum(at: now)
        return r > 0 ? upstream.recent429.sum(at: now) / r : 0
    }

    public func keySeries(_ key: Int) -> (admitted: [Double], tokens: [Double], queue: [Double]) {
        guard keys[key].hasSeries else { return ([], [], []) }
        return (keys[key].admittedPerSecond.values, keys[key].tokenSeries.values, keys[key].queueSeries.values)
    }

    public func groupSnapshots() -> [GroupSnapshot] {
        let recent = 10   // samples in the "recent" throughput window
        let total = groups.reduce(0.0) { $0 + $1.throughputSeries.meanOfLast(recent) }
        return groups.map { g in
            let tp = g.throughputSeries.meanOfLast(recent)
            return GroupSnapshot(name: g.name, clients: g.clients, requests: g.requests, admitted: g.admitted,
                                 rejected: g.rejected, upstream429: g.upstream429, waitMs: g.waits.percentiles(),
                                 throughput: tp, shareOfAdmitted: total > 0 ? tp / total : 0,
                                 throughputSeries: g.throughputSeries.values, p99Series: g.p99Series.values)
        }
    }

    /// One key as a frame shows it: counters, percentiles (with the waits so far of `pending`
    /// requests, when any), series, and what the caller knows of its bucket now.
    public mutating func keySnapshot(key mk: Int, capacity: Double, refillPerSecond: Double, tokens: Double,
                                     oldestWaitSeconds: Double, pending: [Int64]?) -> KeySnapshot {
        let m = keys[mk]
        let (adm, tok, q) = keySeries(mk)
        let waits = pending.map { waitPercentiles(key: mk, includingPending: $0) } ?? waitPercentiles(key: mk)
        return KeySnapshot(key: m.name, group: m.group, capacity: capacity, refillPerSecond: refillPerSecond,
                           tokens: tokens, waiters: m.waiting, oldestWaitSeconds: oldestWaitSeconds,
                           requests: m.requests, admitted: m.admitted, rejected: m.rejected,
                           upstream429: m.upstream429, maxQueue: m.maxQueue, waitMs: waits,
                           admittedPerSecond: adm, tokenSeries: tok, queueSeries: q, timedOut: m.timedOut)
    }

    /// The groups as a frame shows them, with the requests waiting now (`pending[g]`: their
    /// waits so far, ns) counted in `waiting`, the oldest wait and the percentiles.
    public func groupSnapshots(pending: [[Int64]]) -> [GroupSnapshot] {
        var groups = groupSnapshots()
        for g in groups.indices where g < pending.count && !pending[g].isEmpty {
            let ages = pending[g]
            groups[g].waiting = ages.count
            groups[g].oldestWaitSeconds = Double(ages.max() ?? 0) / 1e9
            groups[g].waitMs = self.groups[g].waits.percentiles(includingPending: ages)
        }
        return groups
    }

    /// The provider as a frame shows it.
    public func upstreamSnapshot(name: String, limits l: ProviderLimits, at now: Nanoseconds) -> UpstreamSnapshot {
        UpstreamSnapshot(name: name, requestsPerMinute: l.requestsPerMinute,
                         tokensPerMinute: l.tokensPerMinute ?? l.inputTokensPerMinute,
                         requestsLastMinute: requestsLastMinute(at: now), tokensLastMinute: tokensLastMinute(at: now),
                         requests: upstream.requests, status429: upstream.status429,
                         rate429: recent429Rate(at: now), inFlight: upstream.inFlight)
    }

    public func requestsLastMinute(at now: Nanoseconds) -> Double { upstream.requestsWindow.sum(at: now) }
    public func tokensLastMinute(at now: Nanoseconds) -> Double { upstream.tokensWindow.sum(at: now) }
}
