import TokenBucket

/// One limit a request must pass: a bucket (its Redis key and configuration) and what the
/// request costs in it.
///
/// ```swift
/// let rpm = SharedLimit(key: "user:42:rpm", configuration: try .init(capacity: 60, refillPerSecond: 1), cost: 1)
/// let tpm = SharedLimit(key: "tenant:7:tpm", configuration: tpmConfig, cost: 1_800)
/// ```
public struct SharedLimit: Sendable, Hashable {
    /// The Redis key of the bucket (any string; replicas sharing a limit use the same key).
    public var key: String
    public var configuration: BucketConfiguration
    /// Tokens the request takes from this bucket.
    public var cost: Double

    public init(key: String, configuration: BucketConfiguration, cost: Double) {
        self.key = key
        self.configuration = configuration
        self.cost = cost
    }
}

/// A request admitted by the shared buckets, now or at ``admitAt``: keep it to reconcile the
/// real cost or to cancel before acting.
///
/// Instants are nanoseconds on the Redis server's clock (`TIME`, since 1970), or the explicit
/// times a test passed in.
public struct SharedReservation: Sendable, Hashable {
    /// When the store answered.
    public let requestedAt: Nanoseconds
    /// When every limit admits the request: the caller may act from then on.
    public let admitAt: Nanoseconds
    /// Per limit, what ``RedisBuckets/cancel(_:at:)`` needs to give it back exactly.
    public internal(set) var parts: [Part]

    /// How long the caller waits, in ns.
    public var wait: Nanoseconds { admitAt - requestedAt }

    /// The reservation in one bucket.
    public struct Part: Sendable, Hashable {
        public let limit: SharedLimit
        /// Milliseconds until the key expires (when its bucket is full again, + 1 ms); 0 when the
        /// bucket was already full and idle (the key was deleted).
        public let ttlMilliseconds: Int64
        var costUnits: Int64
        let reservedThrough: Mixed
        let floorBefore: String
        let gap: (String, String)
        let epoch: String

        public static func == (a: Part, b: Part) -> Bool {
            a.limit == b.limit && a.costUnits == b.costUnits && a.reservedThrough == b.reservedThrough
                && a.floorBefore == b.floorBefore && a.gap == b.gap && a.epoch == b.epoch
        }

        public func hash(into h: inout Hasher) {
            h.combine(limit); h.combine(costUnits); h.combine(reservedThrough); h.combine(epoch)
        }
    }
}

/// What the store answers to an admission.
public enum SharedAdmission: Sendable, Hashable {
    /// Admitted at `reservation.admitAt` (now, or after a wait within the allowed one).
    case admitted(SharedReservation)
    /// Admission would come at `admitAt`, later than the allowed wait: nothing was taken.
    case wouldWait(admitAt: Nanoseconds, now: Nanoseconds)
    /// The cost exceeds this limit's capacity: it can never be admitted, however long one waits.
    case never(SharedLimit)
}

/// An admission with what the store saw while deciding it (same `EVALSHA`).
public struct SharedAdmissionReport: Sendable, Hashable {
    public var admission: SharedAdmission
    /// Tokens in each limit's bucket after the decision, in the order given (negative while
    /// reservations are promised ahead of refill); nil for ``SharedAdmission/never(_:)``.
    public var levels: [Double]?
    /// The limit that decided: the one admitting last (``SharedAdmission/wouldWait(admitAt:now:)``)
    /// or the one the cost never fits (``SharedAdmission/never(_:)``); nil when admitted.
    public var binding: Int?
}
