import TokenBucket

/// The virtual-time driver: runs the fleet core's event queue on virtual nanoseconds as fast as
/// it can. Deterministic: the same scenario and seed give the same report, byte for byte (its
/// only randomness is the core's own seeded generators; it never reads a clock).
///
/// Run a scenario headless:
/// ```swift
/// let sim = try Simulation(scenario: Scenario.named("noisy-neighbor")!, seed: 1)
/// try sim.run(until: 60_000_000_000, eventBudget: Simulation.defaultEventBudget)
/// print(sim.report().json())
/// ```
/// or drive it from a dashboard, one frame at a time, at any speed:
/// ```swift
/// let fleet = try makeFleet(FleetOptions(scenario: "burst"))
/// fleet.advance(by: 50_000_000 * 10)      // 50 ms of frame at ×10
/// let s = fleet.snapshot()
/// try fleet.apply(.setRefill(4, key: "user-1"))
/// ```
///
/// - Complexity: ``advance(by:)`` is O(events due × log(pending events)), O(1) when none are
///   due; ``snapshot()`` is O(keys × series length + waiting requests).
public final class Simulation: FleetDriver {
    var core: FleetCore

    /// Events one headless run may take by default: 2 × 10⁹, about ten minutes of one core at
    /// the simulator's 3 M events per second. ``run(until:eventBudget:)`` stops there with a
    /// message instead of running for hours.
    public static let defaultEventBudget = 2_000_000_000

    public var mode: FleetMode { .simulated }
    public var scenarioName: String { core.scenario.name }
    public var scenario: Scenario { core.scenario }
    public var seed: UInt64 { core.seed }
    /// Virtual time now.
    public var now: Nanoseconds { core.now }
    /// Requests started by clients so far (first tries; retries not counted).
    public var requestsStarted: Int { core.started }
    public var keying: Keying { core.table.keying }
    /// Times the tuning controller moved the refill.
    public var tuningMoves: Int { core.tuningMoves }
    public var metrics: FleetMetrics { core.metrics }
    /// Events run so far.
    public var eventsRun: Int { core.eventsRun }

    /// - Throws: ``FleetError`` or `BucketError` for an unusable scenario.
    public init(scenario: Scenario, seed: UInt64 = 1) throws {
        core = try FleetCore(scenario: scenario, seed: seed)
    }

    /// Resolves `options.scenario` (a built-in name or a TOML path) and applies the overrides.
    public convenience init(options: FleetOptions) throws {
        try self.init(scenario: try Scenario.resolve(options), seed: options.seed)
    }

    /// Runs every event up to `t` (virtual), as fast as possible.
    public func run(until t: Nanoseconds) { core.run(until: t) }

    /// Runs every event up to `t`, or stops once `eventBudget` events have run in all (counted
    /// from the start) and throws ``FleetError/eventBudgetExceeded(events:at:)``, which says what
    /// to lower. The run's time is bounded by the budget, whatever the scenario asks.
    public func run(until t: Nanoseconds, eventBudget: Int) throws {
        guard core.run(until: t, budget: eventBudget) else {
            throw FleetError.eventBudgetExceeded(events: core.eventsRun, at: core.now)
        }
    }

    public func advance(by dt: Nanoseconds) {
        guard dt > 0 else { return }
        core.run(until: core.now + dt)
    }

    public func apply(_ command: FleetCommand) throws { try core.apply(command) }

    /// The simulator pauses by not being advanced.
    public func setPaused(_ paused: Bool) {}
    public func shutdown() {}

    public func snapshot() -> FleetSnapshot { core.snapshot() }

    /// The report of the run so far. `wallSeconds` is whatever the caller measured.
    public func report(wallSeconds: Double = 0) -> FleetReport {
        core.report(mode: .simulated, wallSeconds: wallSeconds)
    }

    public func reportSoFar() -> FleetReport? { report() }
}

/// The fleet the dashboard runs: the simulator for `options`. Throws ``ScenarioError`` for a bad
/// file, ``FleetError`` for an unknown name or value.
public func makeFleet(_ options: FleetOptions) throws -> any FleetDriver {
    try Simulation(options: options)
}
