import Synchronization
import TokenBucket

/// The shared fill level of each store key this gateway has seen, as the store last reported
/// it: from every admission answer (the acquire script returns each bucket's level in the same
/// `EVALSHA`), from this gateway's own reconciliations and give-backs, and from a read of the
/// recently used keys once a second (``GatewayStore``), so admissions by other replicas show up
/// too. Between answers a level is extrapolated with the bucket's refill.
///
/// Read by the rate-limit headers and the dashboard (``GatewayLimits/status(bucket:)``); never
/// by admission, which always asks the store.
final class SharedLevels: Sendable {
    struct Entry {
        /// Tokens at `at` (negative while promised ahead of refill).
        var level: Double
        var at: ContinuousClock.Instant
        var configuration: BucketConfiguration
        /// Last admission through this gateway.
        var used: ContinuousClock.Instant
    }

    /// Past this many keys, full ones are dropped (a full bucket reads the same as an unseen one).
    static let compactionThreshold = 10_000
    private let table = Mutex<[String: Entry]>([:])

    var count: Int { table.withLock { $0.count } }

    func contains(_ key: String) -> Bool { table.withLock { $0[key] != nil } }

    /// Records the level the store reported just now.
    func record(_ key: String, _ configuration: BucketConfiguration, level: Double, used: Bool,
                at now: ContinuousClock.Instant = .now) {
        table.withLock { t in
            let lastUse = used ? now : (t[key]?.used ?? now - .seconds(3600))
            t[key] = Entry(level: Swift.min(level, configuration.capacity), at: now, configuration: configuration, used: lastUse)
            if t.count > Self.compactionThreshold {
                t = t.filter { Self.extrapolate($0.value, to: now) < $0.value.configuration.capacity }
            }
        }
    }

    /// Adds `tokens` (negative: takes) to a known key's level: this gateway's own reconciliation
    /// or give-back, before the store confirms it.
    func adjust(_ key: String, by tokens: Double, at now: ContinuousClock.Instant = .now) {
        table.withLock { t in
            guard var e = t[key] else { return }
            e.level = Swift.min(e.configuration.capacity, Self.extrapolate(e, to: now) + tokens)
            e.at = now
            t[key] = e
        }
    }

    /// Tokens in the bucket now under `configuration` (full when never seen).
    func level(_ key: String, _ configuration: BucketConfiguration, at now: ContinuousClock.Instant = .now) -> Double {
        table.withLock { t in
            guard var e = t[key] else { return configuration.capacity }
            e.configuration = configuration
            return Swift.min(configuration.capacity, Self.extrapolate(e, to: now))
        }
    }

    /// Keys admitted through this gateway within `window`, most recent first, at most `limit`.
    func recent(within window: Duration, limit: Int, at now: ContinuousClock.Instant = .now)
        -> [(key: String, configuration: BucketConfiguration)] {
        table.withLock { t in
            t.filter { now - $0.value.used <= window }
                .sorted { $0.value.used > $1.value.used }
                .prefix(limit)
                .map { ($0.key, $0.value.configuration) }
        }
    }

    private static func extrapolate(_ e: Entry, to now: ContinuousClock.Instant) -> Double {
        let seconds = Swift.max(0, (now - e.at).inSeconds)
        return Swift.min(e.configuration.capacity, e.level + e.configuration.refill.perSecond * seconds)
    }
}
