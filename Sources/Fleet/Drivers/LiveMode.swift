import TokenBucket

/// How live mode waits at the client-side buckets (`--live-mode`).
public enum LiveMode: String, CaseIterable, Sendable {
    /// ``TaskFleet``: every waiting request is a Swift task awaiting the library's async
    /// limiter (`KeyedBuckets`) on the real clock. The default.
    case tasks
    /// ``LiveFleet``: the fleet core's own queues, paced on the real clock.
    case core
}

/// The fleet the dashboard opens with `bucketscope --live`: ``TaskFleet`` (`.tasks`) or
/// ``LiveFleet`` (`.core`) on the real clock for `options`, started. Throws ``ScenarioError``
/// for a bad file, ``FleetError`` for an unknown name or value.
public func makeLiveFleet(_ options: FleetOptions, mode: LiveMode = .tasks) throws -> any FleetDriver {
    try makeLiveFleet(scenario: try Scenario.resolve(options), seed: options.seed, mode: mode)
}

/// A live fleet of `scenario` in `mode` on the real clock, started (time zero
/// ``LiveFleet/defaultLead`` from now); `window` as in ``LiveFleet/init(scenario:seed:window:clock:lead:)``.
/// Both modes are a ``LiveFleet`` (the task driver is its subclass), so a caller steers and
/// reads either the same way.
public func makeLiveFleet(scenario: Scenario, seed: UInt64, window: Nanoseconds? = nil, mode: LiveMode) throws -> LiveFleet<ContinuousClock> {
    switch mode {
    case .tasks: return try TaskFleet(scenario: scenario, seed: seed, window: window)
    case .core: return try LiveFleet(scenario: scenario, seed: seed, window: window)
    }
}
