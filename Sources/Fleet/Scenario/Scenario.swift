import TokenBucket

/// A whole simulated fleet: who sends what, how requests are keyed onto client-side buckets, and
/// the rate-limited provider behind them. A value: built in (``Scenario/builtIn``), or read from a
/// TOML file (``Scenario/load(path:)``; schema in `docs/scenario-format.md`).
///
/// ```swift
/// var s = Scenario.named("noisy-neighbor")!
/// s.keying = .shared
/// let sim = try Simulation(scenario: s, seed: 7)
/// sim.run(until: 60_000_000_000)
/// ```
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String
    public var keying: Keying
    /// Default run length for headless runs.
    public var duration: Nanoseconds
    public var limits: ClientLimits
    public var clients: [ClientSpec]
    public var upstream: UpstreamSpec
    public var tuning: TuningSpec?
    /// Requests one client-side bucket lets wait at most; once its queue is this long, a request
    /// arriving there is refused at once (counted as rejected). Bounds memory when clients send
    /// faster than the bucket refills and have no deadline.
    public var queueLimit: Int
    /// Replicas behind a load balancer (nil: one limiter, the default). See ``ReplicaSpec``.
    public var replicas: ReplicaSpec?

    /// Default ``queueLimit``: 100,000 waiters per bucket (a few MB at most).
    public static let defaultQueueLimit = 100_000

    public init(name: String, description: String = "", keying: Keying = .perUser,
                duration: Nanoseconds = 60_000_000_000, limits: ClientLimits = ClientLimits(),
                clients: [ClientSpec], upstream: UpstreamSpec = UpstreamSpec(), tuning: TuningSpec? = nil,
                queueLimit: Int = Scenario.defaultQueueLimit, replicas: ReplicaSpec? = nil) {
        self.name = name; self.description = description; self.keying = keying; self.duration = duration
        self.limits = limits; self.clients = clients; self.upstream = upstream; self.tuning = tuning
        self.queueLimit = queueLimit; self.replicas = replicas
    }

    /// Group names in order of first appearance.
    public var groupNames: [String] {
        var seen: [String] = []
        for c in clients where !seen.contains(c.group) { seen.append(c.group) }
        return seen
    }
}
