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
    /// A ledger follows the traffic (read without the table's lock on the event-loop path).
    private let following = Atomic<Bool>(false)
    private let upstreamStatus: StatusTally
    private let keysHeld: Gauge

    static let other = "(other)"
    struct Table {
        var rows: [String: KeyRow] = [:]
        var traffic: (any FleetTraffic)?
    }

    /// - Parameter registry: where the series live (shared with the store's health series).
    public init(trackedKeys: Int, tuner: RefillTuner? = nil, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.trackedKeys = trackedKeys
        self.tuner = tuner
        keysHeld = registry.makeGauge(descriptor: Self.name("keys_held", "", "Bucket sets held in memory (the request dimension)."))
        upstreamStatus = StatusTally { [registry] status in
            registry.makeCounter(descriptor: GatewayMetrics.name("upstream_responses", "total", "Upstream answers by status code."),
                                 labels: [("status", String(status))])
        }
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bucketscope", subsystem: "gateway", metricName: metric, unitName: unit, helpText: help)
    }


    /// Sends every request from now on to `traffic` too (nil: to nobody). Requests already in
    /// flight stay unfollowed.
    public func follow(_ traffic: (any FleetTraffic)?) {
        table.withLock { t in
            t.traffic = traffic
            following.store(traffic != nil, ordering: .releasing)
        }
    }

    /// Stops sending requests to `traffic`, if it is the one they go to.
    public func unfollow(_ traffic: any FleetTraffic) {
        table.withLock { t in
            if t.traffic === traffic {
                t.traffic = nil
                following.store(false, ordering: .releasing)
            }
        }
    }

    /// The key's row (or `(other)`'s once the table is full), made on first use, and the
    /// ledger following requests, if any: the one table lookup of a request.
    private func row(for key: ClientKey) -> (KeyRow, traffic: (any FleetTraffic)?) {
        table.withLock { t in
            if let row = t.rows[key.id] { return (row, t.traffic) }
            let id = t.rows.count >= trackedKeys && !key.known ? Self.other : key.id
            if let row = t.rows[id] { return (row, t.traffic) }
            let row = id == Self.other
                ? KeyRow(name: id, group: Self.other, tenant: Self.other, known: false, registry: registry)
                : KeyRow(name: id, group: key.known ? key.tenant : "unlisted", tenant: key.tenant, known: key.known, registry: registry)
            t.rows[id] = row
            return (row, t.traffic)
        }
    }

    /// A request reached admission: it counts as waiting until ``decided(_:admittedAfter:limited:estimated:)``.
    /// - Parameter cost: its cost at the limiter, for a following ledger (1: a request).
    func arrived(_ key: ClientKey, cost: Double = 1) -> GatewayVisit {
        let (row, traffic) = row(for: key)
        row.arrived()
        guard let traffic else { return GatewayVisit(key: key, row: row, followed: nil) }
        let ticket = traffic.arrived(key: row.name, group: row.group, cost: cost)
        // Waiting from arrival until decided, as the `waiting` gauge counts it: the library's
        // admission does not say beforehand whether it will wait.
        traffic.waiting(ticket)
        return GatewayVisit(key: key, row: row, followed: FollowedRequest(traffic: traffic, ticket: ticket))
    }

    /// A request admitted the moment it arrived (the event-loop path): ``arrived(_:cost:)``
    /// and ``decided(_:admittedAfter:limited:estimated:)`` in one, without counting it as
    /// waiting in between when no ledger follows the traffic.
    /// - Parameter cached: the key's row from an earlier request (a connection's cache; a key
    ///   keeps its row for good, rows are never dropped), filled in on first use.
    func admittedAtOnce(_ key: ClientKey, estimated: Int, cached: inout KeyRow?) -> GatewayVisit {
        if let row = unfollowedRow(key, cached: &cached) {
            row.admittedAtOnce(estimated: estimated)
            return GatewayVisit(key: key, row: row, followed: nil)
        }
        let visit = arrived(key)
        decided(visit, admittedAfter: .zero, limited: false, estimated: estimated)
        return visit
    }

    /// A request refused with a 429 the moment it arrived (the event-loop path): as
    /// ``admittedAtOnce(_:estimated:cached:)``, for a refusal.
    func limitedAtOnce(_ key: ClientKey, cached: inout KeyRow?) {
        if let row = unfollowedRow(key, cached: &cached) { return row.limitedAtOnce() }
        decided(arrived(key), admittedAfter: nil, limited: true, estimated: 0)
    }

    /// The key's row while no ledger follows the traffic (lock-free once `cached` holds it);
    /// nil while one does (the request must then be reported step by step).
    private func unfollowedRow(_ key: ClientKey, cached: inout KeyRow?) -> KeyRow? {
        if let row = cached, !following.load(ordering: .acquiring) { return row }
        let (row, traffic) = row(for: key)
        cached = row
        return traffic == nil ? row : nil
    }

    /// Admission finished: admitted after `wait`, refused with a 429 (`limited`), or abandoned
    /// (neither: the client went away while waiting). No longer waiting.
    func decided(_ visit: GatewayVisit, admittedAfter wait: Duration?, limited: Bool, estimated: Int) {
        visit.row.decided(admittedAfter: wait, limited: limited, estimated: estimated)
        guard let f = visit.followed else { return }
        if wait != nil {
            f.traffic.admitted(f.ticket)
        } else {
            f.traffic.refused(f.ticket, afterWaiting: !limited)
        }
    }

    /// The upstream reported `tokens` used (prompt + completion) for an admitted request.
    func reconciled(_ visit: GatewayVisit, tokens: Int) {
        visit.row.reconciled(tokens: tokens)
        if let f = visit.followed { f.traffic.used(f.ticket, tokens: Double(tokens)) }
    }

    /// The upstream answered `status` (nil visit: the gateway's own 502/504 when the upstream
    /// failed, counted by status only and not shown to the tuning rule). `headers` carry a 429's
    /// `Retry-After` to the tuning rule.
    func upstreamAnswered(_ visit: GatewayVisit?, status: Int, headers: HTTPHeaders = [:]) {
        upstreamStatus.count(status)
        guard let visit else { return }
        // Only the upstream's own answers: a failure to reach it is not a window "without 429s".
        tuner?.answered(status: status, retryAfter: status == 429 ? RefillTuner.retryAfter(headers) : nil)
        visit.row.upstreamAnswered(status: status)
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
    public func upstreamAnswers() -> [Int: Int] { upstreamStatus.counts }

    /// Every tracked key's counts.
    public func stats() -> [String: KeyStats] { table.withLock { t in t.rows }.mapValues(\.stats) }

    /// Every tracked row, as the client key its counts are under (`(other)` as a key of its own).
    public func rows() -> [ClientKey] {
        table.withLock { t in t.rows.map { ClientKey(id: $0.key, tenant: $0.value.tenant, known: $0.value.known) } }
    }
}
