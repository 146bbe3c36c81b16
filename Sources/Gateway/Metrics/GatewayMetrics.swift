import Fleet
import NIOHTTP1
import Prometheus
import Synchronization

/// What the gateway counts, per client key: kept as plain numbers for the dashboard and as
/// Prometheus collectors for `GET /metrics`.
///
/// The number of keys named is bounded (`trackedKeys`, default 1,000): keys beyond that are
/// summed under `(other)`, so a flood of random keys bounds both this table and the metric
/// label cardinality. Configured keys are always named.
///
/// Each request is followed from ``arrived(_:cost:)`` as a ``GatewayVisit``. Two observers can
/// listen: a fleet ledger (``follow(_:)``: the dashboard, through the fleet's ``FleetTraffic``
/// seam) hears each request's arrival, admission or refusal, usage and end; the tuning rule
/// (``RefillTuner``) hears every upstream answer with its `Retry-After`.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let trackedKeys: Int
    /// The tuning rule, when `[tuning]` is on.
    public let tuner: RefillTuner?
    private let table = Mutex<Table>(Table())
    private let upstreamStatus = Mutex<[Int: (counter: Counter, count: Int)]>([:])
    private let keysHeld: Gauge

    static let other = "(other)"
    static let waitBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                          .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                          .seconds(5), .seconds(10), .seconds(30), .seconds(60)]

    struct Table {
        var entries: [String: Entry] = [:]
        var traffic: (any FleetTraffic)?
    }

    struct Entry {
        var stats: KeyStats
        let admitted: Counter
        let limited: Counter
        let waiting: Gauge
        let wait: DurationHistogram
        let estimated: Counter
        let reconciled: Counter
        let upstream429: Counter
        /// Upstream answers by status code (`upstream_responses_by_key_total`).
        var upstreamStatus: [Int: Counter] = [:]
    }

    /// - Parameter registry: where the series live (shared with the store's health series).
    public init(trackedKeys: Int, tuner: RefillTuner? = nil, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.trackedKeys = trackedKeys
        self.tuner = tuner
        keysHeld = registry.makeGauge(descriptor: Self.name("keys_held", "", "Bucket sets held in memory (the request dimension)."))
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bucketscope", subsystem: "gateway", metricName: metric, unitName: unit, helpText: help)
    }


    /// Sends every request from now on to `traffic` too (nil: to nobody). Requests already in
    /// flight stay unfollowed.
    public func follow(_ traffic: (any FleetTraffic)?) {
        table.withLock { $0.traffic = traffic }
    }

    /// Stops sending requests to `traffic`, if it is the one they go to.
    public func unfollow(_ traffic: any FleetTraffic) {
        table.withLock { t in if t.traffic === traffic { t.traffic = nil } }
    }

    /// Runs `change` on the key's entry (or `(other)` once the table is full); returns the row
    /// it used and the ledger following requests, if any.
    private func update<T>(_ key: ClientKey, _ change: (inout Entry) -> T) -> (T, row: String, traffic: (any FleetTraffic)?) {
        table.withLock { t in
            var id = key.id
            // `index(forKey:)`, not `t.entries[id] == nil`: that would copy the entry (eight references).
            if t.entries.index(forKey: id) == nil {
                if t.entries.count >= trackedKeys && !key.known { id = Self.other }
                if t.entries.index(forKey: id) == nil {
                    let stats = id == Self.other ? KeyStats(group: Self.other, tenant: Self.other, known: false)
                        : KeyStats(group: key.known ? key.tenant : "unlisted", tenant: key.tenant, known: key.known)
                    t.entries[id] = makeEntry(id, stats: stats)
                }
            }
            return (change(&t.entries[id]!), id, t.traffic)
        }
    }

    /// Runs `change` on a visit's row (made at its arrival).
    private func update<T>(_ visit: GatewayVisit, _ change: (inout Entry) -> T) -> T {
        table.withLock { t in change(&t.entries[visit.row]!) }
    }

    private func makeEntry(_ id: String, stats: KeyStats) -> Entry {
        let labels = [("key", id)]
        return Entry(
            stats: stats,
            admitted: registry.makeCounter(descriptor: Self.name("admitted", "total", "Requests admitted."), labels: labels),
            limited: registry.makeCounter(descriptor: Self.name("limited", "total", "Requests answered 429 by the gateway."), labels: labels),
            waiting: registry.makeGauge(descriptor: Self.name("waiting", "", "Requests waiting for admission now."), labels: labels),
            wait: registry.makeDurationHistogram(descriptor: Self.name("admission_wait", "seconds", "Time admitted requests waited."),
                                                 labels: labels, buckets: Self.waitBuckets),
            estimated: registry.makeCounter(descriptor: Self.name("tokens_estimated", "total", "Tokens reserved at admission."), labels: labels),
            reconciled: registry.makeCounter(descriptor: Self.name("tokens_reconciled", "total", "Tokens the upstream reported in usage."), labels: labels),
            upstream429: registry.makeCounter(descriptor: Self.name("upstream_limited", "total", "Upstream 429s passed through."), labels: labels))
    }

    /// A request reached admission: it counts as waiting until ``decided(_:admittedAfter:limited:estimated:)``.
    /// - Parameter cost: its cost at the limiter, for a following ledger (1: a request).
    func arrived(_ key: ClientKey, cost: Double = 1) -> GatewayVisit {
        let (group, row, traffic) = update(key) { e in
            e.stats.requests += 1
            e.stats.waiting += 1
            e.stats.maxWaiting = Swift.max(e.stats.maxWaiting, e.stats.waiting)
            e.waiting.increment()
            return e.stats.group
        }
        guard let traffic else { return GatewayVisit(key: key, row: row, followed: nil) }
        let ticket = traffic.arrived(key: row, group: group, cost: cost)
        // Waiting from arrival until decided, as the `waiting` gauge counts it: the library's
        // admission does not say beforehand whether it will wait.
        traffic.waiting(ticket)
        return GatewayVisit(key: key, row: row, followed: FollowedRequest(traffic: traffic, ticket: ticket))
    }

    /// Admission finished: admitted after `wait`, refused with a 429 (`limited`), or abandoned
    /// (neither: the client went away while waiting). No longer waiting.
    func decided(_ visit: GatewayVisit, admittedAfter wait: Duration?, limited: Bool, estimated: Int) {
        update(visit) { e in
            e.stats.waiting -= 1
            e.waiting.decrement()
            if let wait {
                e.stats.admitted += 1
                e.stats.tokensEstimated += estimated
                e.admitted.increment()
                e.wait.record(wait)
                if estimated > 0 { e.estimated.increment(by: Int64(estimated)) }
            }
            if limited {
                e.stats.limited += 1
                e.limited.increment()
            }
        }
        guard let f = visit.followed else { return }
        if wait != nil {
            f.traffic.admitted(f.ticket)
        } else {
            f.traffic.refused(f.ticket, afterWaiting: !limited)
        }
    }

    /// The upstream reported `tokens` used (prompt + completion) for an admitted request.
    func reconciled(_ visit: GatewayVisit, tokens: Int) {
        update(visit) { e in
            e.stats.tokensReconciled += tokens
            e.reconciled.increment(by: Int64(tokens))
        }
        if let f = visit.followed { f.traffic.used(f.ticket, tokens: Double(tokens)) }
    }

    /// The upstream answered `status` (nil visit: the gateway's own 502/504 when the upstream
    /// failed, counted by status only and not shown to the tuning rule). `headers` carry a 429's
    /// `Retry-After` to the tuning rule.
    func upstreamAnswered(_ visit: GatewayVisit?, status: Int, headers: HTTPHeaders = [:]) {
        let counter = upstreamStatus.withLock { s in
            if let c = s[status] { s[status]!.count += 1; return c.counter }
            let c = registry.makeCounter(descriptor: Self.name("upstream_responses", "total", "Upstream answers by status code."),
                                         labels: [("status", String(status))])
            s[status] = (c, 1)
            return c
        }
        counter.increment()
        guard let visit else { return }
        // Only the upstream's own answers: a failure to reach it is not a window "without 429s".
        tuner?.answered(status: status, retryAfter: status == 429 ? RefillTuner.retryAfter(headers) : nil)
        let keyCounter = update(visit) { e -> Counter in
            if status == 429 {
                e.stats.upstream429 += 1
                e.upstream429.increment()
            }
            e.stats.upstreamStatus[status, default: 0] += 1
            if let c = e.upstreamStatus[status] { return c }
            let c = registry.makeCounter(descriptor: Self.name("upstream_responses_by_key", "total", "Upstream answers by key and status code."),
                                         labels: [("key", visit.row), ("status", String(status))])
            e.upstreamStatus[status] = c
            return c
        }
        keyCounter.increment()
        if let f = visit.followed {
            f.status.store(status, ordering: .relaxed)
            f.traffic.upstreamAnswered(f.ticket, status: status, tokens: 0)
        }
    }

    /// Prometheus text exposition.
    func exposition(keysHeld held: Int) -> [UInt8] {
        keysHeld.set(to: Double(held))
        var out: [UInt8] = []
        out.reserveCapacity(16_384)
        registry.emit(into: &out)
        return out
    }

    /// Upstream answers by status code so far (502/504 for failures).
    public func upstreamAnswers() -> [Int: Int] { upstreamStatus.withLock { $0.mapValues(\.count) } }

    /// Every tracked key's counts.
    public func stats() -> [String: KeyStats] { table.withLock { t in t.entries.mapValues(\.stats) } }

    /// Every tracked row, as the client key its counts are under (`(other)` as a key of its own).
    public func rows() -> [ClientKey] {
        table.withLock { t in t.entries.map { ClientKey(id: $0.key, tenant: $0.value.stats.tenant, known: $0.value.stats.known) } }
    }
}
