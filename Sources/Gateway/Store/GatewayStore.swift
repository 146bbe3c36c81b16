import Logging
import Prometheus
import SharedStore
import Synchronization
import TokenBucket

/// The gateway's link to the shared store (`serve --store redis://…`): the limiter with its
/// failure policy, the store keys of each bucket set, the shared levels shown in headers and
/// on the dashboard, and the store's health on `/metrics` and in the log.
///
/// Keys (after the configured prefix, `bucketscope:` by default): `KEYING:BUCKET:DIMENSION`
/// for a bucket set (`per-key:alice:requests`), `parent:TENANT:DIMENSION` for a hierarchical
/// parent, so every replica with the same configuration uses the same keys, and switching
/// keying starts new (full) buckets as the local path does.
///
/// Reconciliation and give-back go to the store without holding up the response (the responder
/// calls them synchronously); ``settled()`` waits for them, for tests and shutdown.
final class GatewayStore: Sendable {
    let limiter: SharedLimiter
    let levels = SharedLevels()
    let metrics: StoreMetrics?
    private let pending = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))
    private let refresher = Mutex<Task<Void, Never>?>(nil)

    /// How often the recently used keys' levels are read from the store, and which keys count
    /// as recent (admitted through this gateway within ``recentWindow``, at most ``refreshedKeys``).
    static let refreshInterval: Duration = .seconds(1)
    static let recentWindow: Duration = .seconds(120)
    static let refreshedKeys = 256

    init(settings: SharedStoreSettings, prefix: String, logger: Logger, registry: PrometheusCollectorRegistry?) {
        let metrics = registry.map { StoreMetrics(registry: $0, policy: settings.policy) }
        self.metrics = metrics
        limiter = settings.limiter(prefix: prefix, log: { line in logger.warning("\(line)") },
                                   observe: { event in metrics?.record(event) })
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.refreshInterval)
                guard let store = self else { return }
                await store.refreshLevels()
            }
        }
        refresher.withLock { $0 = task }
    }

    deinit {
        refresher.withLock { $0?.cancel() }
        limiter.buckets.client.shutdown()
    }

    /// The store key of `bucket`'s dimension `d` under `keying`.
    static func key(_ keying: GatewayKeying, bucket: String, _ d: GatewayDimension) -> String {
        "\(keying.rawValue):\(bucket):\(d.rawValue)"
    }

    /// The store key of a hierarchical parent (a tenant) for dimension `d`.
    static func parentKey(_ tenant: String, _ d: GatewayDimension) -> String { "parent:\(tenant):\(d.rawValue)" }

    /// Reads the levels of the keys used recently (one `EVALSHA` for all of them).
    func refreshLevels() async {
        let keys = levels.recent(within: Self.recentWindow, limit: Self.refreshedKeys)
        guard !keys.isEmpty, let read = await limiter.levels(keys) else { return }
        for (k, level) in zip(keys, read) { levels.record(k.key, k.configuration, level: level, used: false) }
    }

    /// Runs a store call after the response, counted so ``settled()`` can wait for it.
    func later(_ call: @escaping @Sendable () async -> Void) {
        pending.withLock { $0.count += 1 }
        Task {
            await call()
            let waiters = pending.withLock { p -> [CheckedContinuation<Void, Never>] in
                p.count -= 1
                guard p.count == 0 else { return [] }
                defer { p.waiters = [] }
                return p.waiters
            }
            for w in waiters { w.resume() }
        }
    }

    /// Returns once every reconciliation and give-back sent so far has been answered (or failed).
    func settled() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = pending.withLock { p -> Bool in
                if p.count == 0 { return true }
                p.waiters.append(c)
                return false
            }
            if done { c.resume() }
        }
    }
}
