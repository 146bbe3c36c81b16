import Prometheus
import Synchronization

/// One row of the gateway's metrics: a client key's counts (or `(other)`'s) and its Prometheus
/// series. A request reaches its row through its ``GatewayVisit`` after the one table lookup at
/// arrival, and counts with atomics: no lock is shared between event loops on the way of a
/// request (but the wait histogram's own).
final class KeyRow: Sendable {
    let name: String
    /// The dashboard group: the configured tenant, `unlisted` for keys not in the config.
    let group: String
    let tenant: String
    let known: Bool

    private let requests = Atomic<Int>(0)
    private let admitted = Atomic<Int>(0)
    private let limited = Atomic<Int>(0)
    private let upstream429 = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)
    private let maxWaiting = Atomic<Int>(0)
    private let tokensEstimated = Atomic<Int>(0)
    private let tokensReconciled = Atomic<Int>(0)
    private let upstreamStatus: StatusTally

    private let admittedSeries: Counter
    private let limitedSeries: Counter
    private let waitingSeries: Gauge
    private let waitSeries: DurationHistogram
    private let estimatedSeries: Counter
    private let reconciledSeries: Counter
    private let upstream429Series: Counter

    static let waitBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                          .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                          .seconds(5), .seconds(10), .seconds(30), .seconds(60)]

    init(name: String, group: String, tenant: String, known: Bool, registry: PrometheusCollectorRegistry) {
        self.name = name; self.group = group; self.tenant = tenant; self.known = known
        let labels = [("key", name)]
        func counter(_ metric: String, _ help: String) -> Counter {
            registry.makeCounter(descriptor: GatewayMetrics.name(metric, "total", help), labels: labels)
        }
        admittedSeries = counter("admitted", "Requests admitted.")
        limitedSeries = counter("limited", "Requests answered 429 by the gateway.")
        waitingSeries = registry.makeGauge(descriptor: GatewayMetrics.name("waiting", "", "Requests waiting for admission now."),
                                           labels: labels)
        waitSeries = registry.makeDurationHistogram(
            descriptor: GatewayMetrics.name("admission_wait", "seconds", "Time admitted requests waited."),
            labels: labels, buckets: Self.waitBuckets)
        estimatedSeries = counter("tokens_estimated", "Tokens reserved at admission.")
        reconciledSeries = counter("tokens_reconciled", "Tokens the upstream reported in usage.")
        upstream429Series = counter("upstream_limited", "Upstream 429s passed through.")
        upstreamStatus = StatusTally { status in
            registry.makeCounter(
                descriptor: GatewayMetrics.name("upstream_responses_by_key", "total", "Upstream answers by key and status code."),
                labels: [("key", name), ("status", String(status))])
        }
    }

    func arrived() {
        requests.add(1, ordering: .relaxed)
        let now = waiting.add(1, ordering: .relaxed).newValue
        var seen = maxWaiting.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = maxWaiting.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        waitingSeries.increment()
    }

    /// ``arrived()`` and ``decided(admittedAfter:limited:estimated:)`` with no wait, for a
    /// request that never waited.
    func admittedAtOnce(estimated: Int) {
        requests.add(1, ordering: .relaxed)
        admitted.add(1, ordering: .relaxed)
        tokensEstimated.add(estimated, ordering: .relaxed)
        admittedSeries.increment()
        waitSeries.record(.zero)
        if estimated > 0 { estimatedSeries.increment(by: Int64(estimated)) }
    }

    /// ``arrived()`` and a refusal, for a request refused without waiting.
    func limitedAtOnce() {
        requests.add(1, ordering: .relaxed)
        limited.add(1, ordering: .relaxed)
        limitedSeries.increment()
    }

    func decided(admittedAfter wait: Duration?, limited isLimited: Bool, estimated: Int) {
        waiting.subtract(1, ordering: .relaxed)
        waitingSeries.decrement()
        if let wait {
            admitted.add(1, ordering: .relaxed)
            tokensEstimated.add(estimated, ordering: .relaxed)
            admittedSeries.increment()
            waitSeries.record(wait)
            if estimated > 0 { estimatedSeries.increment(by: Int64(estimated)) }
        }
        if isLimited {
            limited.add(1, ordering: .relaxed)
            limitedSeries.increment()
        }
    }

    func reconciled(tokens: Int) {
        tokensReconciled.add(tokens, ordering: .relaxed)
        reconciledSeries.increment(by: Int64(tokens))
    }

    func upstreamAnswered(status: Int) {
        if status == 429 {
            upstream429.add(1, ordering: .relaxed)
            upstream429Series.increment()
        }
        upstreamStatus.count(status)
    }

    /// The row's counts now (each read on its own: a request counted between two reads may
    /// show in one field and not yet in the next).
    var stats: KeyStats {
        var s = KeyStats(group: group, tenant: tenant, known: known)
        s.requests = requests.load(ordering: .relaxed)
        s.admitted = admitted.load(ordering: .relaxed)
        s.limited = limited.load(ordering: .relaxed)
        s.upstream429 = upstream429.load(ordering: .relaxed)
        s.waiting = waiting.load(ordering: .relaxed)
        s.maxWaiting = maxWaiting.load(ordering: .relaxed)
        s.tokensEstimated = tokensEstimated.load(ordering: .relaxed)
        s.tokensReconciled = tokensReconciled.load(ordering: .relaxed)
        s.upstreamStatus = upstreamStatus.counts
        return s
    }
}

/// Answers by status code with a Prometheus counter each: 200, nearly every answer, counted
/// lock-free (its counter made up front); other codes under a lock, their counters made on
/// first use.
final class StatusTally: Sendable {
    private let make: @Sendable (Int) -> Counter
    private let ok: Counter
    private let okCount = Atomic<Int>(0)
    private let others = Mutex<[Int: (count: Int, counter: Counter)]>([:])

    init(_ make: @escaping @Sendable (Int) -> Counter) {
        self.make = make
        ok = make(200)
    }

    func count(_ status: Int) {
        if status == 200 {
            okCount.add(1, ordering: .relaxed)
            ok.increment()
            return
        }
        let counter = others.withLock { o -> Counter in
            if let c = o[status] {
                o[status]!.count += 1
                return c.counter
            }
            let c = make(status)
            o[status] = (1, c)
            return c
        }
        counter.increment()
    }

    /// Answers so far by status code (codes never seen are absent).
    var counts: [Int: Int] {
        var all = others.withLock { $0.mapValues(\.count) }
        let ok = okCount.load(ordering: .relaxed)
        if ok > 0 { all[200] = ok }
        return all
    }
}
