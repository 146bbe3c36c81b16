import Prometheus
import SharedStore
import Synchronization

/// The shared store's health on `GET /metrics`:
///
/// - `bucketscope_gateway_store_up`: 1 while the store answers, 0 during an outage;
/// - `bucketscope_gateway_store_outages_total`, `…_store_recoveries_total`: transitions;
/// - `bucketscope_gateway_store_errors_total`: store calls that failed (timeout, refused);
/// - `bucketscope_gateway_store_policy_decisions_total{policy}`: requests the failure policy
///   decided (`open` admitted, `closed` refused with 503, `local` limited locally).
final class StoreMetrics: Sendable {
    private let up: Gauge
    private let outages: Counter
    private let recoveries: Counter
    private let errors: Counter
    private let decisions: Counter

    init(registry: PrometheusCollectorRegistry, policy: StoreFailurePolicy) {
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "bucketscope", subsystem: "gateway", metricName: metric, unitName: unit, helpText: help)
        }
        up = registry.makeGauge(descriptor: name("store_up", "", "1 while the shared store answers, 0 during an outage."))
        outages = registry.makeCounter(descriptor: name("store_outages", "total", "Times the shared store stopped answering."))
        recoveries = registry.makeCounter(descriptor: name("store_recoveries", "total", "Times the shared store answered again after an outage."))
        errors = registry.makeCounter(descriptor: name("store_errors", "total", "Shared store calls that failed (timeout, refused, lost)."))
        let word: String
        switch policy {
        case .open: word = "open"
        case .closed: word = "closed"
        case .local: word = "local"
        }
        decisions = registry.makeCounter(descriptor: name("store_policy_decisions", "total",
                                                          "Requests decided by the failure policy while the store was away."),
                                         labels: [("policy", word)])
        up.set(to: 1)
    }

    func record(_ event: SharedStoreEvent) {
        switch event {
        case .callFailed: errors.increment()
        case .outage: outages.increment(); up.set(to: 0)
        case .recovery: recoveries.increment(); up.set(to: 1)
        }
    }

    func decidedByPolicy() { decisions.increment() }
}
