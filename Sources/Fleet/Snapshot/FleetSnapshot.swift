import TokenBucket

/// Everything a frame needs, taken at one instant: the contract between a fleet (any driver) and
/// whatever shows it. Immutable `Sendable` values.
public struct FleetSnapshot: Sendable, Equatable {
    public var scenario: String
    public var mode: FleetMode
    public var keying: Keying
    /// Simulated (or live, since start) time.
    public var now: Nanoseconds
    /// Spacing of the time-series samples.
    public var sampleInterval: Nanoseconds
    public var noisyEnabled: Bool
    public var keys: [KeySnapshot]
    public var groups: [GroupSnapshot]
    public var upstream: UpstreamSnapshot
    public var lastChange: ChangeNote?
    /// The tuning controller's current refill factor (1 = untouched), nil when it is off.
    public var tuningFactor: Double?
    /// How many times the tuning controller has moved the refill.
    public var tuningMoves: Int
    /// What a person must know to read the numbers right, one sentence each (a group whose
    /// requests all cost more than its bucket's capacity: "every `paying` request costs ~1,000
    /// tokens > capacity 20: all refused"). Empty when all is well.
    public var warnings: [String]
    /// Replicas behind a balancer, when the scenario has them (nil: one limiter).
    public var replicas: ReplicaSnapshot? = nil

    public init(scenario: String, mode: FleetMode, keying: Keying, now: Nanoseconds, sampleInterval: Nanoseconds,
                noisyEnabled: Bool, keys: [KeySnapshot], groups: [GroupSnapshot], upstream: UpstreamSnapshot,
                lastChange: ChangeNote?, tuningFactor: Double?, tuningMoves: Int = 0, warnings: [String] = []) {
        self.tuningMoves = tuningMoves
        self.warnings = warnings
        self.scenario = scenario; self.mode = mode; self.keying = keying; self.now = now
        self.sampleInterval = sampleInterval; self.noisyEnabled = noisyEnabled; self.keys = keys
        self.groups = groups; self.upstream = upstream; self.lastChange = lastChange; self.tuningFactor = tuningFactor
    }
}
