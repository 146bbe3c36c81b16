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
///
/// Everything else (pacing, read-outs, commands, pause, the window) is ``LiveFleet``'s: this
/// driver only adds the limiter's waits.
public final class TaskFleet<C: Clock>: LiveFleet<C>, @unchecked Sendable where C.Duration == Duration {
    let port: LimiterAdmission
    /// How long after the limiter's admission instant each admission reached the core (ns).
    private let admissionLag = Mutex(WaitRecorder())
    /// Times ``step(to:)`` gave up waiting for the tasks to settle (a test checks it is 0).
    let unsettled = Atomic<Int>(0)

    /// Builds the fleet and starts it on `clock`: time zero is `lead` from the clock's now.
    /// - Parameter pacing: false on a test clock: nothing runs until ``step(to:)`` (or a
    ///   read-out or command) moves the fleet.
    /// - Throws: ``FleetError`` or `BucketError` for an unusable scenario.
    public init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil, clock: C, lead: Duration = .zero,
                pacing: Bool = true) throws {
        var core = try FleetCore(scenario: scenario, seed: seed)
        port = LimiterAdmission(clock: clock, lead: lead)
        core.attach(port)
        // A task's outcome may be recorded inside this driver's lock (decided at once, in the
        // task started there): the wake only signals, and the applier task applies.
        let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        if pacing { port.wake.withLock { $0 = { signal.yield() } } }
        super.init(core: core, scenario: scenario, seed: seed, window: window, clock: clock,
                   origin: clock.now.advanced(by: lead), pacing: pacing)
        guard pacing else { return }
        let applier = Task { [weak self] in
            for await _ in signals { self?.applyOutcomes() }
        }
        state.withLock { $0.tasks.append(applier) }
    }

    /// Applies the reported outcomes in order, each after the core's events up to its instant
    /// (and never past `target`).
    override func intake(_ s: inout State, until target: Nanoseconds) {
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
                admissionLag.withLock { $0.record(Swift.max(0, target - o.at)) }
                if !s.core.portAdmitted(slot: o.slot, gen: o.gen) { port.giveBack(o) }
            case .refused(let atOnce):
                s.core.portRefused(slot: o.slot, gen: o.gen, atOnce: atOnce)
            }
        }
    }

    private func applyOutcomes() { state.withLock { catchUp(&$0) } }

    /// Also cancels every waiting task (their tokens go back to the limiter).
    override func stopNow() -> [Task<Void, Never>] {
        let own = super.stopNow()
        return port.cancelAll() + own
    }

    /// ``shutdown()``, then waits until the pacing task and every waiting task have returned;
    /// admissions reported meanwhile are given back.
    public override func stop() async {
        await super.stop()
        applyOutcomes()
    }

    // MARK: Read-outs

    /// How long after the limiter's admission instant each admission reached the core (the
    /// waiting task's wake-up and report), in milliseconds.
    public func admissionLagPercentiles() -> WaitPercentiles { admissionLag.withLock { $0.percentiles() } }

    /// Forgets the lateness and admission lag recorded so far (to measure a steady state).
    public override func resetLateness() {
        super.resetLateness()
        admissionLag.withLock { $0.reset() }
    }

    /// Tasks waiting in the library limiter now.
    public var waitingTasks: Int { port.limiterWaiting }

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
    /// ``unsettled``. The bound is 100,000 yields and at least a second of real time: a task
    /// on a thread the machine has descheduled takes no turn however often this yields.
    func settle() async {
        var yields = 0
        var since: ContinuousClock.Instant?
        while !isSettled(sleepers: clock.sleeperCount) {
            yields += 1
            if yields >= 100_000 {
                let started = since ?? .now
                since = started
                if ContinuousClock.now - started >= .seconds(1) {
                    unsettled.add(1, ordering: .relaxed)
                    return
                }
            }
            await Task.yield()
        }
    }
}

extension TaskFleet where C == ContinuousClock {
    /// Builds the fleet on the real clock and starts it (time zero ``LiveFleet/defaultLead`` from now).
    public convenience init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil) throws {
        try self.init(scenario: scenario, seed: seed, window: window, clock: ContinuousClock(), lead: Self.defaultLead)
    }

    /// Resolves `options.scenario` (a built-in name or a TOML path), applies the overrides, starts.
    public convenience init(options: FleetOptions, window: Nanoseconds? = nil) throws {
        try self.init(scenario: try Scenario.resolve(options), seed: options.seed, window: window)
    }
}
