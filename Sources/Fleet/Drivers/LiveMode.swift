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
    switch mode {
    case .tasks: return try TaskFleet(options: options)
    case .core: return try LiveFleet(options: options)
    }
}
