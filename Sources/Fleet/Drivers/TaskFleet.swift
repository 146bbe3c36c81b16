import Synchronization
import TokenBucket

/// The task driver: the fleet core on a `Clock`, where every request that must wait at a
/// client-side bucket is a real Swift task awaiting the library's async limiter
/// (`KeyedBuckets.acquire`, one FIFO waiting engine, parents for hierarchical keying), and the
/// core keeps every other rule (clients and draws, keying, the provider, retries, metrics,
/// snapshots). Runs on `ContinuousClock` (`bucketscope --live`) or on a test clock (the
/// library's `ManualClock`, stepped with ``step(to:)``).
///
/// ```swift
/// let fleet = try TaskFleet(options: FleetOptions(scenario: "noisy-neighbor"))   // real time
/// try await Task.sleep(for: .seconds(10))
/// try fleet.apply(.setRefill(4, key: nil))     // the limiter re-plans every waiting task
/// await fleet.stop()                           // cancels and awaits every task
/// ```
///
/// ## How it runs
/// The core hands each wait to ``LimiterAdmission`` (its ``AdmissionPort``), which starts a task
/// per waiting request; the task's admission (or refusal) is recorded with the limiter's
/// admission instant and applied to the core under this driver's lock, in order of instant and
/// then of arrival, after the core's own events up to that instant. On the real clock a pacing
/// task sleeps until the core's next event and each outcome is applied as soon as it is
/// reported; on a test clock (`pacing: false`) nothing runs by itself: ``step(to:)`` moves the
/// clock, waits until every task has reported or sleeps in a limiter queue, and applies, so a
/// run is the same every time.
///
/// ## Semantics
/// - **Commands** (capacity, refill, presets, keying, noisy) reach the limiter
///   (`setOverride`, `setParentOverride`): its waiting tasks are re-planned at once. A keying
///   switch cancels each waiting task (the limiter gives its tokens back exactly) and the core
///   starts the request's wait again on the new keying's buckets, in arrival order.
/// - **Pause**: new arrivals stop; waiting tasks go on and are admitted.
/// - **Stop** (``stop()``): time stops for the fleet, every task is cancelled and awaited;
///   an admission that came after the stop is given back, so each limiter bucket then holds
///   exactly what a replay of the admissions the core counted leaves (``conservationGaps()``).
/// - **Hierarchical keying** follows the library's rule: the user's and the parent's buckets
///   admit together (all or nothing, one FIFO queue per parent), where the in-core limiter
///   waits on the user first and then on the parent.
public final class TaskFleet<C: Clock>: FleetDriver, Sendable where C.Duration == Duration {
    public var mode: FleetMode { .live }
    public var scenarioName: String { scenario.name }
    public let scenario: Scenario
    public let seed: UInt64
    /// End of the measured window (fleet time): the core never runs past it.
    public let cutoff: Nanoseconds
    public let clock: C
    /// The fleet's time zero on `clock`.
    public let startedAt: C.Instant
    let port: LimiterAdmission

    private struct State: Sendable {
        var core: FleetCore
        var pacer: Task<Void, Never>?
        /// Applies outcomes as tasks report them (paced mode).
        var applier: Task<Void, Never>?
        var stoppedAt: Nanoseconds?
        var paused = false
        var lateness = WaitRecorder()
        /// How long after the limiter's admission instant each admission reached the core (ns).
        var admissionLag = WaitRecorder()
    }

    private let state: Mutex<State>
    /// Times ``step(to:)`` gave up waiting for the tasks to settle (a test checks it is 0).
    let unsettled = Atomic<Int>(0)

    /// Builds the fleet and starts it on `clock`: time zero is `lead` from the clock's now.
    /// - Parameter pacing: false on a test clock: nothing runs until ``step(to:)`` (or a
    ///   read-out or command) moves the fleet.
    /// - Throws: ``FleetError`` or `BucketError` for an unusable scenario.
    public init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil, clock: C, lead: Duration = .zero,
                pacing: Bool = true) throws {
        self.scenario = scenario
        self.seed = seed
        self.clock = clock
        cutoff = window ?? .max
        var core = try FleetCore(scenario: scenario, seed: seed)
        port = LimiterAdmission(clock: clock, lead: lead)
        startedAt = clock.now.advanced(by: lead)
        core.attach(port)
        state = Mutex(State(core: core))
        guard pacing else { return }
        // A task's outcome may be recorded inside this driver's lock (decided at once, in the
        // task started there): the wake only signals, and this task applies.
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        port.wake.withLock { $0 = { signal.yield() } }
        let applier = Task { [weak self] in
            for await _ in signals { self?.applyOutcomes() }
        }
        let (clock, origin) = (clock, startedAt)
        let pacer = Task { [weak self] in
            while !Task.isCancelled, let next = self?.runAndNextEvent() {
                do { try await clock.sleep(until: origin.advanced(by: .nanoseconds(next)), tolerance: nil) } catch { return }
                self?.recordLateness(since: next)
            }
        }
        state.withLock { $0.pacer = pacer; $0.applier = applier }
    }

    /// Fleet time now on the clock (0 before time zero).
    public var now: Nanoseconds {
        let d = startedAt.duration(to: clock.now)
        return Swift.max(0, Nanoseconds(truncatingIfNeeded: d.components.seconds) &* 1_000_000_000
                         &+ Nanoseconds(d.components.attoseconds / 1_000_000_000))
    }

    /// Applies the reported outcomes in order, each after the core's events up to its instant,
    /// then runs the core up to the clock's now (never past the window, nor past a stop).
    private func catchUp(_ s: inout State) {
        var target = Swift.min(now, cutoff)
        if let stop = s.stoppedAt { target = Swift.min(target, stop) }
        for o in port.takeOutcomes() {
            // After a stop, or admitted past the window: the core never sees it.
            guard s.stoppedAt == nil, s.core.now <= cutoff, o.at <= cutoff else {
                if case .admitted = o.kind { port.giveBack(o) }
                continue
            }
            let at = Swift.min(o.at, target)
            if at > s.core.now { s.core.run(until: at) }
            switch o.kind {
            case .admitted:
                s.admissionLag.record(Swift.max(0, target - o.at))
                if !s.core.portAdmitted(slot: o.slot, gen: o.gen) { port.giveBack(o) }
            case .refused(let atOnce):
                s.core.portRefused(slot: o.slot, gen: o.gen, atOnce: atOnce)
            }
        }
        if target > s.core.now { s.core.run(until: target) }
    }

    private func applyOutcomes() { state.withLock { catchUp(&$0) } }

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

    /// Stops the fleet at this instant, cancels the pacing task and every waiting task (their
    /// tokens go back to the limiter). Idempotent; never blocks.
    public func shutdown() { _ = stopNow() }

    private func stopNow() -> [Task<Void, Never>] {
        let (pacer, applier) = state.withLock { s -> (Task<Void, Never>?, Task<Void, Never>?) in
            catchUp(&s)
            if s.stoppedAt == nil { s.stoppedAt = s.core.now }
            return (s.pacer, s.applier)
        }
        pacer?.cancel()
        applier?.cancel()
        return port.cancelAll() + [pacer, applier].compactMap { $0 }
    }

    /// ``shutdown()``, then waits until the pacing task and every waiting task have returned;
    /// admissions reported meanwhile are given back.
    public func stop() async {
        for t in stopNow() { await t.value }
        applyOutcomes()
    }

    public var isRunning: Bool { state.withLock { s in s.stoppedAt == nil && s.core.now < cutoff } }

    // MARK: Read-outs

    public func report(duration: Nanoseconds? = nil, wallSeconds: Double? = nil) -> FleetReport {
        state.withLock { s in
            catchUp(&s)
            let d = duration ?? s.core.now
            return s.core.report(mode: .live, duration: d, wallSeconds: wallSeconds ?? Double(s.core.now) / 1e9)
        }
    }

    public func reportSoFar() -> FleetReport? { report() }

    public var metrics: FleetMetrics { state.withLock { s in catchUp(&s); return s.core.metrics } }

    /// How late the pacing task ran the events it woke for, in milliseconds.
    public func latenessPercentiles() -> WaitPercentiles { state.withLock { $0.lateness.percentiles() } }

    /// How long after the limiter's admission instant each admission reached the core (the
    /// waiting task's wake-up and report), in milliseconds.
    public func admissionLagPercentiles() -> WaitPercentiles { state.withLock { $0.admissionLag.percentiles() } }

    /// Forgets the lateness and admission lag recorded so far (to measure a steady state).
    public func resetLateness() { state.withLock { $0.lateness.reset(); $0.admissionLag.reset() } }

    /// Tasks waiting in the library limiter now.
    public var waitingTasks: Int { port.limiterWaiting }

    /// When the core's next event is due (fleet ns; nil: none).
    public var nextEventTime: Nanoseconds? { state.withLock { $0.core.nextEventTime } }

    /// Per key of every keying used so far: the limiter's tokens and the replay's (the in-core
    /// bucket that took each admission the core counted, at its instant). Equal, up to
    /// rounding, when the limiter gave back exactly what it did not admit; after ``stop()``
    /// (no task waits) they must be.
    public func conservationGaps() -> [(key: String, limiter: Double, replay: Double)] {
        state.withLock { s in
            // Both read at the limiter's instant (on a real clock it has moved on since a stop).
            let t = Swift.max(s.core.now, port.limiter.now - port.offset)
            return ([s.core.table] + s.core.parked.values).flatMap { table in
                table.keys.indices.map { k in
                    let lk = table.keys[k]
                    return ("\(table.keying.rawValue)/\(lk.name)",
                            port.tokens(key: Int32(k), parent: table.parentOf[k], keying: table.keying, isParent: lk.isParent),
                            lk.bucket.tokens(at: t))
                }
            }
        }
    }

    /// Whether every waiting task has either reported or sleeps in a limiter queue whose timer
    /// sleeps on the clock (`sleepers`: the test clock's sleepers; no pacing task).
    func isSettled(sleepers: Int) -> Bool {
        port.liveTasks == port.limiterWaiting && sleepers == port.queuesWithWaiters
    }
}

extension TaskFleet where C == ManualClock {
    /// On a test clock without pacing: moves the clock to each instant something is due (the
    /// core's next event or a limiter timer) up to `t`, letting every task run in between and
    /// applying what they report, so the run is the same every time.
    public func step(to t: Nanoseconds) async {
        while true {
            await settle()
            var next = Swift.min(t, nextEventTime ?? .max)
            if let d = clock.nextDeadline {
                let (sec, atto) = startedAt.duration(to: d).components
                next = Swift.min(next, sec * 1_000_000_000 + atto / 1_000_000_000)
            }
            // Nothing due after now (a stopped fleet keeps its next event): go straight to `t`.
            if next <= now { next = t }
            if next > now { clock.advance(to: startedAt.advanced(by: .nanoseconds(next))) }
            await settle()
            applyOutcomes()
            if next >= t { break }
        }
        await settle()
        applyOutcomes()
    }

    /// Yields until every task has reported or sleeps; bounded, counting a give-up in
    /// ``unsettled``.
    func settle() async {
        for _ in 0..<100_000 {
            if isSettled(sleepers: clock.sleeperCount) { return }
            await Task.yield()
        }
        unsettled.add(1, ordering: .relaxed)
    }
}

extension TaskFleet where C == ContinuousClock {
    /// Builds the fleet on the real clock and starts it (time zero 20 ms from now).
    public convenience init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil) throws {
        try self.init(scenario: scenario, seed: seed, window: window, clock: ContinuousClock(), lead: .milliseconds(20))
    }

    /// Resolves `options.scenario` (a built-in name or a TOML path), applies the overrides, starts.
    public convenience init(options: FleetOptions, window: Nanoseconds? = nil) throws {
        try self.init(scenario: try Scenario.resolve(options), seed: options.seed, window: window)
    }
}
