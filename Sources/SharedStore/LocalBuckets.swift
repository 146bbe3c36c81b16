import Synchronization
import TokenBucket

/// The in-process fallback of ``StoreFailurePolicy/local(replicas:)``: one `BucketState` per
/// key, sized limit ÷ replicas, with the same all-or-nothing admission as the store.
///
/// Buckets that are full and idle are dropped when the table grows past ``compactionThreshold``,
/// which changes no outcome (a full bucket is a new one).
final class LocalBuckets: Sendable {
    let replicas: Int
    static let compactionThreshold = 10_000
    private let buckets = Mutex<[String: BucketState]>([:])

    init(replicas: Int) { self.replicas = Swift.max(1, replicas) }

    /// A limit's share on this replica.
    func share(_ configuration: BucketConfiguration) -> BucketConfiguration {
        guard replicas > 1 else { return configuration }
        let r = configuration.refill
        let refill = (try? Rate(numerator: r.numerator, denominator: r.denominator * Int64(replicas)))
            ?? (try? Rate(perSecond: max(r.perSecond / Double(replicas), Rate.minimumPerSecond))) ?? r
        let capacity = max(configuration.capacity / Double(replicas), 1e-9)
        return (try? BucketConfiguration(capacity: capacity, refill: refill)) ?? configuration
    }

    /// Reserves every limit at the first instant all admit (or returns that instant when it is
    /// more than `maxWait` away, taking nothing).
    func acquire(_ limits: [SharedLimit], maxWait: Nanoseconds, at now: Nanoseconds) -> (admitAt: Nanoseconds, reservations: [Reservation]?) {
        buckets.withLock { table in
            var costs: [(String, Int64)] = []
            var admit = now
            for limit in limits {
                let config = share(limit.configuration)
                var state = table[limit.key] ?? BucketState(config)
                if state.configuration != config { state.reconfigure(config, at: now) }
                table[limit.key] = state
                let units = Swift.min(TokenUnits.units(limit.cost), state.capacityUnits)
                costs.append((limit.key, units))
                admit = Swift.max(admit, state.admissionTime(units: units, at: now))
            }
            guard admit - now <= maxWait else { return (admit, nil) }
            let reservations = costs.map { key, units in table[key]!.reserve(units: units, at: now, notBefore: admit) }
            if table.count > Self.compactionThreshold {
                table = table.filter { !$0.value.isFullAndIdle(at: now) }
            }
            return (admit, reservations)
        }
    }

    func cancel(_ keys: [String], _ reservations: inout [Reservation], at now: Nanoseconds) {
        buckets.withLock { table in
            for (k, key) in keys.enumerated() { table[key]?.cancel(&reservations[k], at: now) }
        }
    }

    func reconcile(_ deltas: [(key: String, tokens: Double)], at now: Nanoseconds) {
        buckets.withLock { table in
            for (key, tokens) in deltas where tokens.isFinite {
                if tokens > 0 { try? table[key]?.charge(tokens, at: now) } else if tokens < 0 { try? table[key]?.refund(-tokens, at: now) }
            }
        }
    }

    func levels(_ keys: [String], at now: Nanoseconds) -> [Double?] {
        buckets.withLock { table in keys.map { table[$0]?.balance(at: now) } }
    }
}
