import TokenBucket

/// What a user can choose when starting a fleet (from `run`'s or the dashboard's flags).
public struct FleetOptions: Sendable, Equatable {
    /// A built-in scenario name or a path to a scenario TOML file.
    public var scenario: String
    /// Overrides the scenario's keying strategy.
    public var keying: Keying?
    /// Overrides every client bucket's capacity (tokens).
    public var capacity: Double?
    /// Overrides every client bucket's refill (tokens per second).
    public var refill: Double?
    public var seed: UInt64
    /// Run length for headless runs; the dashboard runs until quit.
    public var duration: Nanoseconds
    /// Overrides where a scenario's replicas keep their buckets (it must have `[replicas]`).
    public var replicaBuckets: ReplicaSpec.Buckets?

    public init(scenario: String = "noisy-neighbor", keying: Keying? = nil, capacity: Double? = nil,
                refill: Double? = nil, seed: UInt64 = 1, duration: Nanoseconds = 60_000_000_000,
                replicaBuckets: ReplicaSpec.Buckets? = nil) {
        self.scenario = scenario; self.keying = keying; self.capacity = capacity
        self.refill = refill; self.seed = seed; self.duration = duration; self.replicaBuckets = replicaBuckets
    }
}
