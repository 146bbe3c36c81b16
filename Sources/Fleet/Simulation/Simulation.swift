import TokenBucket

/// The fleet simulator: a discrete-event simulation on virtual nanoseconds driving the library's
/// own `BucketState`s. Deterministic: the same scenario and seed give the same report, byte for
/// byte (its only randomness is its own seeded generator; it never reads a clock).
///
/// Run a scenario headless:
/// ```swift
/// let sim = try Simulation(scenario: Scenario.named("noisy-neighbor")!, seed: 1)
/// sim.run(until: 60_000_000_000)
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
///   due; ``snapshot()`` is O(keys × series length).
public final class Simulation: FleetDriver {
    var core: SimCore

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

    /// - Throws: ``FleetError`` or `BucketError` for an unusable scenario.
    public init(scenario: Scenario, seed: UInt64 = 1) throws {
        core = try SimCore(scenario: scenario, seed: seed)
    }

    /// Resolves `options.scenario` (a built-in name or a TOML path) and applies the overrides.
    public convenience init(options: FleetOptions) throws {
        try self.init(scenario: try Scenario.resolve(options), seed: options.seed)
    }

    /// Runs every event up to `t` (virtual), as fast as possible.
    public func run(until t: Nanoseconds) { core.run(until: t) }

    public func advance(by dt: Nanoseconds) {
        guard dt > 0 else { return }
        core.run(until: core.now + dt)
    }

    public func apply(_ command: FleetCommand) throws { try core.apply(command) }

    /// The simulator pauses by not being advanced.
    public func setPaused(_ paused: Bool) {}
    public func shutdown() {}

    public func snapshot() -> FleetSnapshot {
        let now = core.now
        var keys: [KeySnapshot] = []
        keys.reserveCapacity(core.table.keys.count)
        for k in core.table.keys.indices {
            core.catchUp(Int32(k))
            let lk = core.table.keys[k]
            let mk = lk.metricsKey
            let m = core.metrics.keys[mk]
            let (adm, tok, q) = core.metrics.keySeries(mk)
            var oldest = 0.0
            if let head = lk.queue.first {
                let r = core.requests[Int(head)]
                oldest = Double(now - (lk.isParent ? r.parentStart : r.arrival)) / 1e9
            }
            keys.append(KeySnapshot(key: lk.name, group: m.group, capacity: lk.bucket.configuration.capacity,
                                    refillPerSecond: lk.bucket.configuration.refill.perSecond,
                                    tokens: lk.bucket.tokens(at: now), waiters: m.waiting, oldestWaitSeconds: oldest,
                                    requests: m.requests, admitted: m.admitted, rejected: m.rejected,
                                    upstream429: m.upstream429, maxQueue: m.maxQueue,
                                    waitMs: core.metrics.waitPercentiles(key: mk),
                                    admittedPerSecond: adm, tokenSeries: tok, queueSeries: q, timedOut: m.timedOut))
        }
        core.metrics.sampleGroups(to: now)
        var groups = core.metrics.groupSnapshots()
        for lk in core.table.keys {
            for index in lk.queue {
                let r = core.requests[Int(index)]
                let g = Int(core.clients[Int(r.client)].group)
                guard g < groups.count else { continue }
                groups[g].waiting += 1
                groups[g].oldestWaitSeconds = max(groups[g].oldestWaitSeconds, Double(now - r.arrival) / 1e9)
            }
        }
        let l = core.upstream.limits
        let up = UpstreamSnapshot(name: core.upstream.name, requestsPerMinute: l.requestsPerMinute,
                                  tokensPerMinute: l.tokensPerMinute ?? l.inputTokensPerMinute,
                                  requestsLastMinute: core.metrics.requestsLastMinute(at: now),
                                  tokensLastMinute: core.metrics.tokensLastMinute(at: now),
                                  requests: core.metrics.upstream.requests, status429: core.metrics.upstream.status429,
                                  rate429: core.metrics.recent429Rate(at: now), inFlight: core.metrics.upstream.inFlight)
        return FleetSnapshot(scenario: core.scenario.name, mode: .simulated, keying: core.table.keying, now: now,
                             sampleInterval: core.metrics.sampleInterval, noisyEnabled: core.noisyEnabled, keys: keys,
                             groups: groups, upstream: up, lastChange: core.lastChange,
                             tuningFactor: core.scenario.tuning == nil ? nil : core.tuningFactor,
                             tuningMoves: core.tuningMoves)
    }

    /// The report of the run so far. `wallSeconds` is whatever the caller measured.
    public func report(wallSeconds: Double = 0) -> FleetReport {
        for k in core.table.keys.indices { core.catchUp(Int32(k)) }
        let current = Set(core.table.keys.map(\.metricsKey))
        return FleetReport(metrics: core.metrics, scenario: core.scenario.name, mode: .simulated, seed: core.seed,
                           duration: core.now, keying: core.table.keying,
                           includeKey: { current.contains($0) || core.metrics.keys[$0].requests > 0 },
                           tuningFactor: core.scenario.tuning == nil ? nil : core.tuningFactor,
                           tuningMoves: core.tuningMoves, completed: core.completed, failed: core.failed,
                           wallSeconds: wallSeconds)
    }
}

/// The fleet the dashboard runs: the simulator for `options` (live mode will be chosen here
/// too). Throws ``ScenarioError`` for a bad file, ``FleetError`` for an unknown name or value.
public func makeFleet(_ options: FleetOptions) throws -> any FleetDriver {
    try Simulation(options: options)
}
