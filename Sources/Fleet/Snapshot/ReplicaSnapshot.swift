import TokenBucket

/// Replicas behind a balancer, at one instant: what each replica admitted and refused, the
/// fleet's admissions against the limit meant for all of it, how evenly identical clients were
/// served, and what the shared store costs. In ``FleetSnapshot/replicas`` and
/// ``FleetReport/replicas`` when the scenario has `[replicas]`.
///
/// ```swift
/// let r = sim.snapshot().replicas!
/// r.overAdmission       // ≈ 3 with local-full buckets on 3 saturated replicas, ≈ 1 shared
/// ```
public struct ReplicaSnapshot: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        /// 1-based, as keys name it (`r2:user-1`).
        public var number: Int
        /// Requests the balancer sent here (first tries and retries).
        public var routed: Int
        public var admitted: Int
        /// Refused by the limiter (at once or after waiting), here or by the store for it.
        public var refused: Int
        /// This replica's clock offset, ms.
        public var clockOffsetMs: Double

        public init(number: Int, routed: Int, admitted: Int, refused: Int, clockOffsetMs: Double) {
            self.number = number; self.routed = routed; self.admitted = admitted; self.refused = refused
            self.clockOffsetMs = clockOffsetMs
        }
    }

    /// How evenly the clients of one group (identical clients) were served.
    public struct Fairness: Sendable, Equatable {
        public var group: String
        public var clients: Int
        /// Fewest and most requests admitted for one client of the group.
        public var minAdmitted: Int
        public var maxAdmitted: Int
        /// Jain's index over the clients' admitted counts: (Σx)² / (n Σx²), 1 when all got the
        /// same, 1/n when one got everything (1 when none got anything).
        public var jain: Double

        public init(group: String, clients: Int, minAdmitted: Int, maxAdmitted: Int, jain: Double) {
            self.group = group; self.clients = clients; self.minAdmitted = minAdmitted; self.maxAdmitted = maxAdmitted
            self.jain = jain
        }
    }

    /// `round-robin`, `random`, `key-hash`.
    public var balancer: String
    /// `local-full`, `local-split`, `shared`.
    public var buckets: String
    /// `server` or `replica` (shared buckets).
    public var storeClock: String
    public var replicas: [Replica]
    /// Requests admitted by all replicas together, and their cost in tokens.
    public var admitted: Int
    public var admittedTokens: Double
    /// What the limit allows the whole fleet over the time so far, tokens: Σ over the keying's
    /// top-level buckets (parents when there are any) of capacity + refill × time, at the
    /// configured (full) size.
    public var globalLimitTokens: Double
    /// admittedTokens ÷ globalLimitTokens: ≈ N with full-size local buckets under enough load,
    /// ≤ 1 with split or shared ones (0 when the limit is 0).
    public var overAdmission: Double
    public var fairness: [Fairness]
    /// Shared store: operations sent to it so far (one per admission attempt), their mean rate
    /// over the time so far (the load offered: above the capacity, they queue), the rate it
    /// serves at most (ops/s), and the rate over the last 10 s.
    public var storeOps: Int
    public var storeOpsPerSecond: Double
    public var storeCapacityPerSecond: Double
    public var storeOpsRecentPerSecond: Double
    /// Store round trip, ms.
    public var storeRoundTripMs: Double
    /// Per store operation, the time from a request's arrival at its replica until the replica
    /// has the answer (round trip + queueing at the store + service), ms; all zero with local
    /// buckets.
    public var addedLatencyMs: WaitPercentiles
    /// Longest an operation queued at the store, ms.
    public var storeQueueMaxMs: Double

    public init(balancer: String, buckets: String, storeClock: String, replicas: [Replica], admitted: Int,
                admittedTokens: Double, globalLimitTokens: Double, overAdmission: Double, fairness: [Fairness],
                storeOps: Int, storeOpsPerSecond: Double, storeCapacityPerSecond: Double, storeOpsRecentPerSecond: Double,
                storeRoundTripMs: Double, addedLatencyMs: WaitPercentiles, storeQueueMaxMs: Double) {
        self.balancer = balancer; self.buckets = buckets; self.storeClock = storeClock; self.replicas = replicas
        self.admitted = admitted; self.admittedTokens = admittedTokens; self.globalLimitTokens = globalLimitTokens
        self.overAdmission = overAdmission; self.fairness = fairness; self.storeOps = storeOps
        self.storeOpsPerSecond = storeOpsPerSecond; self.storeCapacityPerSecond = storeCapacityPerSecond
        self.storeOpsRecentPerSecond = storeOpsRecentPerSecond; self.storeRoundTripMs = storeRoundTripMs
        self.addedLatencyMs = addedLatencyMs; self.storeQueueMaxMs = storeQueueMaxMs
    }

    /// Whether the replicas share a store.
    public var shared: Bool { buckets == ReplicaSpec.Buckets.shared.rawValue }

    /// Jain's fairness index of `xs`: (Σx)² / (n Σx²); 1 for an empty or all-zero list.
    public static func jainIndex(_ xs: [Int]) -> Double {
        let sum = xs.reduce(0.0) { $0 + Double($1) }
        let squares = xs.reduce(0.0) { $0 + Double($1) * Double($1) }
        guard !xs.isEmpty, squares > 0 else { return 1 }
        return sum * sum / (Double(xs.count) * squares)
    }
}
