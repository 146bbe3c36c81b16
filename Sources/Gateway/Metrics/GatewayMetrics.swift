import Prometheus
import Synchronization

/// What the gateway counts, per client key: kept as plain numbers for the dashboard and as
/// Prometheus collectors for `GET /metrics`.
///
/// The number of keys named is bounded (`trackedKeys`, default 1,000): keys beyond that are
/// summed under `(other)`, so a flood of random keys bounds both this table and the metric
/// label cardinality. Configured keys are always named.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let trackedKeys: Int
    private let table = Mutex<[String: Entry]>([:])
    private let upstreamStatus = Mutex<[Int: (counter: Counter, count: Int)]>([:])
    private let keysHeld: Gauge

    static let other = "(other)"
    static let waitBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                          .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                          .seconds(5), .seconds(10), .seconds(30), .seconds(60)]

    struct Entry {
        var stats: KeyStats
        let admitted: Counter
        let limited: Counter
        let waiting: Gauge
        let wait: DurationHistogram
        let estimated: Counter
        let reconciled: Counter
        let upstream429: Counter
    }

    public init(trackedKeys: Int) {
        self.trackedKeys = trackedKeys
        keysHeld = registry.makeGauge(descriptor: Self.name("keys_held", "", "Bucket sets held in memory (the request dimension)."))
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "bucketscope", subsystem: "gateway", metricName: metric, unitName: unit, helpText: help)
    }


    /// Runs `change` on the key's entry (or `(other)` once the table is full).
    private func update<T>(_ key: ClientKey, _ change: (inout Entry) -> T) -> T {
        table.withLock { t in
            var id = key.id
            // `index(forKey:)`, not `t[id] == nil`: that would copy the entry (eight references).
            if t.index(forKey: id) == nil {
                if t.count >= trackedKeys && !key.known { id = Self.other }
                if t.index(forKey: id) == nil {
                    let stats = id == Self.other ? KeyStats(group: Self.other, tenant: Self.other, known: false)
                        : KeyStats(group: key.known ? key.tenant : "unlisted", tenant: key.tenant, known: key.known)
                    t[id] = makeEntry(id, stats: stats)
                }
            }
            return change(&t[id]!)
        }
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

    func arrived(_ key: ClientKey) {
        update(key) { e in
            e.stats.requests += 1
            e.stats.waiting += 1
            e.stats.maxWaiting = Swift.max(e.stats.maxWaiting, e.stats.waiting)
            e.waiting.increment()
        }
    }

    /// Admission finished (admitted, limited or abandoned): no longer waiting.
    func decided(_ key: ClientKey, admittedAfter wait: Duration?, limited: Bool, estimated: Int) {
        update(key) { e in
            e.stats.waiting -= 1
            e.waiting.decrement()
            if let wait {
                e.stats.admitted += 1
                e.stats.recordWait(ms: wait.inSeconds * 1000)
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
    }

    func reconciled(_ key: ClientKey, tokens: Int) {
        update(key) { e in
            e.stats.tokensReconciled += tokens
            e.reconciled.increment(by: Int64(tokens))
        }
    }

    func upstreamAnswered(_ key: ClientKey?, status: Int) {
        let counter = upstreamStatus.withLock { s in
            if let c = s[status] { s[status]!.count += 1; return c.counter }
            let c = registry.makeCounter(descriptor: Self.name("upstream_responses", "total", "Upstream answers by status code."),
                                         labels: [("status", String(status))])
            s[status] = (c, 1)
            return c
        }
        counter.increment()
        if status == 429, let key {
            update(key) { e in
                e.stats.upstream429 += 1
                e.upstream429.increment()
            }
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
    public func stats() -> [String: KeyStats] { table.withLock { t in t.mapValues(\.stats) } }
}
