import Synchronization
import TokenBucket

/// The clock driver: the fleet core run on a `Clock`'s time, so a scenario plays out in real
/// time (`ContinuousClock`, `bucketscope --live`) or on a test clock (the library's
/// `ManualClock`), where every live behaviour is checked without a single real sleep. Requests
/// wait at the client-side buckets in the core's own queues (`--live-mode core`); its subclass
/// ``TaskFleet`` hands those waits to the library's async limiter instead (`--live-mode tasks`,
/// the default) and keeps everything else here: the pacing, the read-outs, commands and stop.
///
/// ```swift
/// let fleet = try LiveFleet(options: FleetOptions(scenario: "noisy-neighbor"))   // real time
/// try await Task.sleep(for: .seconds(10))
/// try fleet.apply(.setRefill(4, key: nil))     // re-plans every waiter at once
/// await fleet.stop()
/// print(fleet.report().json())                 // "mode": "live"
/// ```
/// On a test clock:
/// ```swift
/// let clock = ManualClock()
/// let fleet = try LiveFleet(scenario: s, seed: 1, clock: clock)
/// clock.advance(by: .seconds(3))
/// fleet.snapshot()                              // exactly the fleet at 3 s
/// ```
///
/// ## How it runs
/// The core holds every rule (sans-I/O, time passed in). This driver owns one pacing task that
/// sleeps on the clock until the core's next event is due and then runs the core up to the
/// clock's now; every read-out (``snapshot()``, ``report(duration:wallSeconds:)``) and every
/// command first runs the core up to the clock's now as well, so what they see and change is
/// the fleet at that instant, whether or not the pacing task has woken yet. Events due at the
/// same instant run in the order they were scheduled, as in the simulator: the two modes give
/// the same run for the same seed, a late wake-up only delays when it is computed (measured:
/// ``latenessPercentiles()``), never what happens.
///
/// ## Semantics
/// - **Commands** (capacity, refill, presets, keying, noisy) act on the running buckets at
///   once; a keying switch moves the waiters to the new buckets, as in the simulator.
/// - **Pause** (``setPaused(_:)``): new arrivals stop (those due meanwhile are dropped; the
///   schedule resumes from the instant of resuming); requests already sent go on: waiters are
///   admitted, answers arrive, 429s are retried.
/// - **Window** (`window:`): the core never runs past it, so a report of a run of known length
///   is the fleet at exactly that instant however late the caller stops.
/// - **Stop** (``stop()``, ``shutdown()``): the pacing task is cancelled and time stops for the
///   fleet at that instant; requests waiting or in flight then stay counted as such.
///
/// Sendable: every stored property is a constant or inside the `Mutex`; the class is open to
/// its one subclass only (``TaskFleet``, same module), which keeps that rule.
public class LiveFleet<C: Clock>: FleetDriver, @unchecked Sendable where C.Duration == Duration {
    public var mode: FleetMode { .live }
    public var scenarioName: String { scenario.name }
    public let scenario: Scenario
    public let seed: UInt64
    /// End of the measured window (fleet time): the core never runs past it.
    public let cutoff: Nanoseconds
    public let clock: C
    /// The fleet's time zero on `clock`.
    public let startedAt: C.Instant

    struct State: Sendable {
        var core: FleetCore
        /// The driver's own tasks: the pacing task, and a subclass's (cancelled by a stop).
        var tasks: [Task<Void, Never>] = []
        /// Fleet time at which ``stop()`` froze the fleet.
        var stoppedAt: Nanoseconds?
        var paused = false
        /// How late the pacing task ran each due event (ns after it was due).
        var lateness = WaitRecorder()
    }

    let state: Mutex<State>

    /// Time zero on a real clock comes this long after `init`, so the first arrivals are not
    /// late by the time it takes to start.
    public static var defaultLead: Duration { .milliseconds(20) }

    /// Builds the fleet and starts it on `clock`: time zero is `lead` from the clock's now.
    ///
    /// - Parameter window: for a headless run of known length: the fleet stops at this instant
    ///   of its time (the report then shows it exactly there). nil: it runs until stopped.
    /// - Throws: ``FleetError`` or `BucketError` for an unusable scenario.
    public convenience init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil, clock: C, lead: Duration = .zero) throws {
        self.init(core: try FleetCore(scenario: scenario, seed: seed), scenario: scenario, seed: seed, window: window,
                  clock: clock, origin: clock.now.advanced(by: lead), pacing: true)
    }

    /// The driver around `core` (already attached to its admission port, if any); time zero
    /// at `origin`. `pacing`: start the pacing task (false: the fleet moves only when read,
    /// commanded or stepped).
    init(core: FleetCore, scenario: Scenario, seed: UInt64, window: Nanoseconds?, clock: C, origin: C.Instant, pacing: Bool) {
        self.scenario = scenario
        self.seed = seed
        self.clock = clock
        cutoff = window ?? .max
        startedAt = origin
        state = Mutex(State(core: core))
        guard pacing else { return }
        // The pacing task holds the fleet only while it runs the core, not while it sleeps: a
        // fleet nobody holds any more stops at its next event.
        let pacer = Task { [weak self, clock] in
            while !Task.isCancelled, let next = self?.runAndNextEvent() {
                do { try await clock.sleep(until: origin.advanced(by: .nanoseconds(next)), tolerance: nil) } catch { return }
                self?.recordLateness(since: next)
            }
        }
        state.withLock { $0.tasks.append(pacer) }
    }

    /// Fleet time now on the clock (0 before time zero).
    public var now: Nanoseconds {
        let d = startedAt.duration(to: clock.now)
        return Swift.max(0, Nanoseconds(truncatingIfNeeded: d.components.seconds) &* 1_000_000_000
                         &+ Nanoseconds(d.components.attoseconds / 1_000_000_000))
    }

    /// Runs the core up to the clock's now (never past the window, nor past a stop), after
    /// ``intake(_:until:)``.
    func catchUp(_ s: inout State) {
        var target = Swift.min(now, cutoff)
        if let stop = s.stoppedAt { target = Swift.min(target, stop) }
        intake(&s, until: target)
        if target > s.core.now { s.core.run(until: target) }
    }

    /// What the core learns from outside before it runs up to `target` (fleet ns): nothing
    /// here; the task driver applies the admissions its tasks reported.
    func intake(_ s: inout State, until target: Nanoseconds) {}

    /// Runs the core up to now; the next event's instant, unless stopped or past the window.
    private func runAndNextEvent() -> Nanoseconds? {
        state.withLock { s in
            catchUp(&s)
            guard s.stoppedAt == nil, let t = s.core.nextEventTime, t <= cutoff else { return nil }
            return t
        }
    }

    private func recordLateness(since due: Nanoseconds) {
        let late = now - due
        state.withLock { $0.lateness.record(late) }
    }

    // MARK: FleetDriver

    /// Real time runs by itself: ignored.
    public func advance(by dt: Nanoseconds) {}

    public func setPaused(_ paused: Bool) {
        state.withLock { s in
            catchUp(&s)
            s.paused = paused
            s.core.setArrivalsPaused(paused)
        }
    }

    public var isPaused: Bool { state.withLock { $0.paused } }

    public func apply(_ command: FleetCommand) throws {
        try state.withLock { s in
            catchUp(&s)
            try s.core.apply(command)
        }
    }

    public func snapshot() -> FleetSnapshot {
        state.withLock { s in
            catchUp(&s)
            var snap = s.core.snapshot()
            snap.mode = .live
            return snap
        }
    }

    /// Stops the fleet at this instant and cancels the driver's tasks. Idempotent; never blocks.
    public func shutdown() { _ = stopNow() }

    /// Stops time for the fleet at this instant and cancels the driver's tasks; returns every
    /// task to await.
    func stopNow() -> [Task<Void, Never>] {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            catchUp(&s)
            if s.stoppedAt == nil { s.stoppedAt = s.core.now }
            return s.tasks
        }
        for t in tasks { t.cancel() }
        return tasks
    }

    /// ``shutdown()``, then waits until the driver's tasks have returned.
    public func stop() async {
        for t in stopNow() { await t.value }
    }

    /// Whether the fleet still runs (false after ``stop()``, or past the window).
    public var isRunning: Bool { state.withLock { s in s.stoppedAt == nil && s.core.now < cutoff } }

    // MARK: Read-outs

    /// The report of the run so far (`mode: live`), over `duration` (default: the fleet's time
    /// so far); `wallSeconds` defaults to that time.
    public func report(duration: Nanoseconds? = nil, wallSeconds: Double? = nil) -> FleetReport {
        state.withLock { s in
            catchUp(&s)
            let d = duration ?? s.core.now
            return s.core.report(mode: .live, duration: d, wallSeconds: wallSeconds ?? Double(s.core.now) / 1e9)
        }
    }

    public func reportSoFar() -> FleetReport? { report() }

    /// A copy of the metrics now.
    public var metrics: FleetMetrics { state.withLock { s in catchUp(&s); return s.core.metrics } }

    /// When the core's next event is due (fleet ns; nil: none).
    public var nextEventTime: Nanoseconds? { state.withLock { $0.core.nextEventTime } }

    /// How late the pacing task ran the events it woke for (its wake-up after their due
    /// instant: the timer's and the executor's delay), in milliseconds.
    public func latenessPercentiles() -> WaitPercentiles { state.withLock { $0.lateness.percentiles() } }

    /// Forgets the lateness recorded so far (to measure a steady state after a warm-up).
    public func resetLateness() { state.withLock { $0.lateness.reset() } }
}

extension LiveFleet where C == ContinuousClock {
    /// Builds the fleet on the real clock and starts it (time zero ``defaultLead`` from now).
    public convenience init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil) throws {
        try self.init(scenario: scenario, seed: seed, window: window, clock: ContinuousClock(), lead: Self.defaultLead)
    }

    /// Resolves `options.scenario` (a built-in name or a TOML path), applies the overrides, starts.
    public convenience init(options: FleetOptions, window: Nanoseconds? = nil) throws {
        try self.init(scenario: try Scenario.resolve(options), seed: options.seed, window: window)
    }
}
