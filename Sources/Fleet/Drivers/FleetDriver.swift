import TokenBucket

/// A running fleet the dashboard steers: a driver around the fleet core. ``Simulation`` feeds
/// it virtual time; ``LiveFleet`` a `Clock`'s time.
///
/// Calls come from one isolation domain (the dashboard's loop); drivers that run work elsewhere
/// (live mode's pacing task) hand back copies.
public protocol FleetDriver: AnyObject {
    var mode: FleetMode { get }
    var scenarioName: String { get }
    /// Moves simulated time forward by `dt` (the simulator); live mode ignores it (real time runs).
    func advance(by dt: Nanoseconds)
    /// The current state, for one frame.
    func snapshot() -> FleetSnapshot
    /// Applies a command; throws a `BucketError` (or other error with a message) for bad values.
    func apply(_ command: FleetCommand) throws
    /// Pauses or resumes arrivals (live mode; the simulator pauses by not being advanced).
    func setPaused(_ paused: Bool)
    /// Stops everything (live mode cancels its pacing task). Idempotent.
    func shutdown()
    /// The report of the run so far (what `run --live` prints when interrupted); nil when the
    /// driver cannot make one.
    func reportSoFar() -> FleetReport?
}

extension FleetDriver {
    public func reportSoFar() -> FleetReport? { nil }
}
