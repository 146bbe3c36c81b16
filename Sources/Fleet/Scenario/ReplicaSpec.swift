import TokenBucket

/// Several gateway replicas behind a load balancer, each running the scenario's client-side
/// limiter (`[replicas]` in a scenario file; schema in `docs/scenario-format.md`).
///
/// What the model shows is how a limit meant for the whole fleet behaves once the fleet is
/// split over replicas:
/// - ``Buckets/localFull``: every replica keeps its own buckets at the full limit, so the fleet
///   admits up to N × the limit (LiteLLM's in-memory TPM check; Kong's `local` strategy);
/// - ``Buckets/localSplit``: each replica keeps buckets at limit ÷ N: never above the limit, but
///   a request only sees its replica's share, so a balancer that sends more of a key's traffic
///   to one replica refuses it early while another replica's share goes unused;
/// - ``Buckets/shared``: one set of buckets in a store (Redis), which every admission reaches
///   over a round trip and which serves a bounded number of operations per second: exact, at
///   the cost of that latency and load.
///
/// ```swift
/// var s = Scenario.named("replicas")!
/// s.replicas?.buckets = .shared
/// let sim = try Simulation(scenario: s, seed: 1)
/// ```
public struct ReplicaSpec: Sendable, Equatable {
    /// How the load balancer picks a replica for each request (retries included: a retry is a
    /// new request to the balancer).
    public enum Balancer: String, Sendable, CaseIterable {
        /// Replica 1, 2, …, N, 1, … in order of arrival.
        case roundRobin = "round-robin"
        /// Uniformly at random (seeded).
        case random
        /// By a hash of the client's name (its API key): one client always reaches the same
        /// replica, so a few busy clients can load replicas very unevenly.
        case keyHash = "key-hash"
    }

    /// Where the buckets live.
    public enum Buckets: String, Sendable, CaseIterable {
        /// In each replica, each at the full limit.
        case localFull = "local-full"
        /// In each replica, each at the limit ÷ N (capacity and refill).
        case localSplit = "local-split"
        /// In one store every replica asks, over a round trip.
        case shared
    }

    /// Whose clock the shared store's bucket arithmetic reads.
    public enum StoreClock: String, Sendable, CaseIterable {
        /// The store's own (Redis `TIME`, as bucketscope's SharedStore does): skew costs nothing.
        case server
        /// The time each replica sends with its request (a script that takes the caller's
        /// time): a replica whose clock runs ahead finds the bucket fuller than it is.
        case replica
    }

    /// Number of replicas, 1 to 64.
    public var count: Int
    public var balancer: Balancer
    public var buckets: Buckets
    /// Round-trip time between a replica and the store, ns (shared buckets).
    public var storeRoundTrip: Nanoseconds
    /// Operations per second the store serves (one per admission attempt); beyond it they
    /// queue at the store.
    public var storeOpsPerSecond: Double
    /// Largest clock offset of a replica, ns: replica clocks are spread evenly from −skew
    /// (replica 1) to +skew (replica N). Only a shared store on ``StoreClock/replica`` time sees
    /// it: a local bucket compares its replica's times with each other, where a constant offset
    /// cancels out.
    public var clockSkew: Nanoseconds
    public var storeClock: StoreClock

    public init(count: Int = 3, balancer: Balancer = .roundRobin, buckets: Buckets = .localFull,
                storeRoundTrip: Nanoseconds = 1_000_000, storeOpsPerSecond: Double = 50_000,
                clockSkew: Nanoseconds = 0, storeClock: StoreClock = .server) {
        self.count = count; self.balancer = balancer; self.buckets = buckets
        self.storeRoundTrip = storeRoundTrip; self.storeOpsPerSecond = storeOpsPerSecond
        self.clockSkew = clockSkew; self.storeClock = storeClock
    }

    /// Replica `i`'s clock offset (0-based), ns: evenly spread over −skew … +skew.
    public func clockOffset(of i: Int) -> Nanoseconds {
        guard count > 1, clockSkew > 0 else { return 0 }
        // −skew + 2·skew·i/(N−1), exact for the end points.
        return -clockSkew + Nanoseconds((Double(2 * clockSkew) * Double(i) / Double(count - 1)).rounded())
    }

    /// The first value out of its valid range (``InputLimits``), as field and message.
    func violation() -> (field: String, message: String)? {
        if let p = InputLimits.replicaCount.violation(count) { return ("count", p) }
        if let p = InputLimits.storeRoundTrip.violation(storeRoundTrip) { return ("store_rtt", p) }
        if let p = InputLimits.storeOpsPerSecond.violation(storeOpsPerSecond) { return ("store_ops_per_s", p) }
        if let p = InputLimits.clockSkew.violation(clockSkew) { return ("clock_skew", p) }
        return nil
    }
}
