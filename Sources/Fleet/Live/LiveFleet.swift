import Dispatch
import Synchronization
import TokenBucket

/// A scenario run live: every request is a real Swift task that waits in the library's async
/// `Bucket.acquire` on the `ContinuousClock`, then calls a simulated provider that enforces its
/// limits and answers 429 with a Retry-After, and sleeps for real while the answer streams.
/// The same scenarios, seeds, draws, keying and metrics as the simulator (``Simulation``), in
/// real time.
///
/// ```swift
/// let fleet = try LiveFleet(options: FleetOptions(scenario: "noisy-neighbor"))
/// try await Task.sleep(for: .seconds(10))
/// try fleet.apply(.setRefill(4, key: nil))     // re-plans every waiter at once
/// await fleet.stop()                           // cancels and awaits every task
/// print(fleet.report().json())                 // "mode": "live"
/// ```
/// or, for the dashboard, `makeLiveFleet(options)` and the ``FleetDriver`` calls (`advance(by:)`
/// does nothing: real time runs; there is no speed other than ×1).
///
/// ## Tasks
/// All work runs as tasks registered with the fleet (``TaskRegistry``): one sender per
/// open-loop client (it sleeps until each arrival from the client's seeded generator and starts
/// a task per request), `concurrency` senders per closed-loop client (each sends, waits for the
/// answer, thinks, sends again), a sampler for the charts and, if the scenario has one, the
/// tuning controller. ``shutdown()`` and ``stop()`` cancel them all (the waiters of each bucket
/// latest first, which the library does cheaply) and wait until every one has returned.
///
/// ## Semantics
/// - **Waiting**: a request is counted as waiting on its key while its task is inside
///   `acquire` (the bucket's own snapshot gives the exact number of suspended tasks, which is
///   what ``snapshot()`` shows). Waits are the bucket's, as the simulator measures them: from
///   the call to `acquire` to the admission instant the bucket computed (`Admission.wait`;
///   in hierarchical keying, to the parent's admission). How late the task really ran after
///   that (the timer's and the executor's delay, `Admission.lateness`) is recorded on its own:
///   ``latenessPercentiles()``.
/// - **Deadlines**: the client's deadline goes to `acquire(_:deadline:)`: refused at once
///   (nothing consumed) counts as rejected; pushed past it by a re-plan while queued counts as
///   timed out.
/// - **Hierarchical keying**: two async buckets in turn, as the simulator does it: the user's
///   bucket admits, then the parent's (reserved only from that instant) admits. Not
///   `KeyedBuckets`' parent support: its waiters are not re-planned by a reconfiguration and a
///   cancelled waiter that is not the last gives nothing back, so a shutdown would lose tokens.
/// - **Reconfiguration** (capacity, refill, presets, tuning): the library's live
///   `Bucket.reconfigure`; waiting tasks are re-planned at once (a waiter that no longer fits,
///   by cost or deadline, times out then).
/// - **Keying switch**: new requests and retries use the new strategy's buckets at once.
///   Requests already waiting stay in the queue of the bucket they joined and are admitted by
///   it as planned (nothing is cancelled, so no tokens move); that bucket is parked with its
///   level for a switch back. (The simulator instead moves waiters to the new buckets.)
/// - **Pause**: new arrivals stop (senders wait at a gate; arrivals due meanwhile are dropped
///   and the schedule resumes from the instant of resuming). Requests already sent keep going:
///   waiters stay queued and are admitted, answers arrive, 429s are retried.
/// - **Noisy off**: noisy clients send nothing new; their requests already sent finish.
/// - **Shutdown**: every task is cancelled and awaited. Waiting tasks give their tokens back
///   exactly (the library's cancellation), so each bucket holds what it admitted says it should.
///   The metrics keep the cancelled requests as waiting or in flight at the end. Until then
///   the tasks keep the fleet alive and running: whoever makes one stops it.
public final class LiveFleet: FleetDriver, Sendable {
    public var mode: FleetMode { .live }
    public var scenarioName: String { scenario.name }
    public let scenario: Scenario
    public let seed: UInt64
    /// End of the measured window (fleet time): events after it are not counted.
    public let cutoff: Nanoseconds
    let auditing: Bool

    let clock: LiveClock
    let clients: [LiveClient]
    let tenants: [String]
    let book: Mutex<Book>
    let gate = PauseGate()
    /// Every task of this fleet (senders, requests, sampler, tuner).
    let tasks = TaskRegistry()
    private let stopped = Atomic<Bool>(false)

    /// Time zero comes this long after `init`, once the senders are started (they sleep until
    /// their first arrival), so a scenario's first arrivals are on time.
    static let lead: Duration = .milliseconds(20)

    /// Everything the tasks share, behind one lock.
    struct Book: Sendable {
        var metrics: FleetMetrics
        var table: LiveKeyTable
        var parked: [Keying: LiveKeyTable] = [:]
        var limits: ClientLimits
        var upstream: LiveUpstream
        /// Per client: its generator (arrivals, costs, backoff jitter), as the simulator seeds it.
        var rng: [Xoshiro256]
        var enabled: [Bool]
        /// Bumped when a client is turned off or on: its open-loop sender of an older epoch stops.
        var epoch: [UInt32]
        /// Closed-loop senders alive per client.
        var senders: [Int]
        var noisyEnabled = true
        var lastChange: ChangeNote?
        var tuningFactor = 1.0
        var tuningMoves = 0
        var windowRequests = 0
        var window429 = 0
        var completed = 0
        var failed = 0
        /// Resume time minus admission time of every request that suspended in `acquire`.
        var lateness = WaitRecorder()
    }

    /// Builds the fleet and starts it: real time starts now.
    ///
    /// - Parameter window: for a headless run of known length: the metrics count what happens
    ///   in `[0, window]` (a request admitted by its bucket at an instant ≤ `window` counts as
    ///   admitted; one still waiting or in flight at `window` counts as such), however late the
    ///   caller stops the fleet, so a report compares with the simulator's for that duration.
    ///   nil (the dashboard): everything counts until shutdown.
    /// - Throws: ``FleetError`` or `BucketError` for an unusable scenario.
    public convenience init(scenario: Scenario, seed: UInt64 = 1, window: Nanoseconds? = nil) throws {
        try self.init(scenario: scenario, seed: seed, window: window, auditing: false)
    }

    /// `auditing`: every bucket keeps a log of its admissions (for tests; it grows without bound).
    init(scenario: Scenario, seed: UInt64, window: Nanoseconds?, auditing: Bool) throws {
        self.auditing = auditing
        try SimCore.validate(scenario)
        self.scenario = scenario
        self.seed = seed
        cutoff = window ?? .max
        let clock = LiveClock(lead: Self.lead)
        self.clock = clock
        (clients, tenants) = LiveClient.all(scenario)
        var metrics = FleetMetrics()
        for g in scenario.groupNames {
            _ = metrics.addGroup(g, clients: scenario.clients.filter { $0.group == g }.reduce(0) { $0 + $1.count })
        }
        let table = try LiveKeyTable.build(scenario.keying, clients: clients, tenants: tenants, limits: scenario.limits,
                                           tuningFactor: 1, metrics: &metrics, clock: clock, auditing: auditing)
        let n = clients.count
        book = Mutex(Book(metrics: metrics, table: table, limits: scenario.limits,
                          upstream: try LiveUpstream(spec: scenario.upstream, seed: seed),
                          rng: (0..<n).map { Xoshiro256(seed: seed, stream: UInt64($0 + 1)) },
                          enabled: Array(repeating: true, count: n), epoch: Array(repeating: 0, count: n),
                          senders: Array(repeating: 0, count: n)))
        for c in clients.indices { startSenders(c) }
        spawn { [self] in await sampler() }
        if let t = scenario.tuning { spawn { [self] in await tuner(t) } }
    }

    /// Resolves `options.scenario` (a built-in name or a TOML path), applies the overrides, starts.
    public convenience init(options: FleetOptions, window: Nanoseconds? = nil) throws {
        try self.init(scenario: try Scenario.resolve(options), seed: options.seed, window: window)
    }

    /// Runs `job` as a task of the fleet (nothing after shutdown).
    func spawn(_ job: @escaping @Sendable () async -> Void) { tasks.spawn(job) }

    /// Real time since the fleet started.
    public var now: Nanoseconds { clock.now() }

    /// The instant the fleet started (its time zero).
    public var startedAt: ContinuousClock.Instant { clock.origin }

    /// Tasks of this fleet still running (0 after ``stop()`` or ``shutdown()``).
    public var runningTasks: Int { tasks.count }

    // MARK: FleetDriver

    /// Live mode runs in real time: ignored.
    public func advance(by dt: Nanoseconds) {}

    public func setPaused(_ paused: Bool) { gate.setPaused(paused) }

    public var isPaused: Bool { gate.isPaused }

    /// Cancels every task and blocks the caller until all have finished. Idempotent. From async
    /// code prefer ``stop()``, which awaits instead of blocking a thread.
    public func shutdown() {
        cancelAll()
        let done = DispatchSemaphore(value: 0)
        let tasks = self.tasks
        Task.detached { await tasks.drained(); done.signal() }
        done.wait()
    }

    /// Cancels every task and waits until all have finished. Idempotent.
    public func stop() async {
        cancelAll()
        await tasks.drained()
    }

    /// Cancels the tasks waiting in each bucket latest first (each such cancellation is O(1) in
    /// the library; head first it is O(waiters behind)), then every other task.
    private func cancelAll() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        gate.setPaused(false)
        tasks.stop(cancellingFirst: allKeys.flatMap { $0.waitersLatestFirst() })
    }

    /// Every bucket the fleet has made (current keying first, then parked ones), for checks.
    var allKeys: [LiveKey] {
        book.withLock { b in b.table.keys + b.parked.values.flatMap(\.keys) }
    }

    // MARK: Read-outs

    public func snapshot() -> FleetSnapshot {
        let keys = book.withLock { $0.table.keys }
        let buckets = keys.map { $0.bucket.snapshot() }
        let now = Swift.max(0, clock.now())   // the clock starts just after init
        return book.withLock { b in
            var out: [KeySnapshot] = []
            out.reserveCapacity(keys.count)
            for (k, s) in zip(keys, buckets) {
                let mk = k.metricsKey
                b.metrics.catchUp(key: mk, to: now) { _ in s.balance }
                let m = b.metrics.keys[mk]
                let (adm, tok, q) = b.metrics.keySeries(mk)
                out.append(KeySnapshot(key: k.name, group: m.group, capacity: s.configuration.capacity,
                                       refillPerSecond: s.configuration.refill.perSecond, tokens: s.tokens,
                                       waiters: s.waiters, oldestWaitSeconds: Self.seconds(s.oldestWait),
                                       requests: m.requests, admitted: m.admitted, rejected: m.rejected,
                                       upstream429: m.upstream429, maxQueue: m.maxQueue,
                                       waitMs: b.metrics.waitPercentiles(key: mk), admittedPerSecond: adm,
                                       tokenSeries: tok, queueSeries: q, timedOut: m.timedOut))
            }
            b.metrics.sampleGroups(to: now)
            let l = b.upstream.spec.limits
            let up = UpstreamSnapshot(name: b.upstream.spec.name, requestsPerMinute: l.requestsPerMinute,
                                      tokensPerMinute: l.tokensPerMinute ?? l.inputTokensPerMinute,
                                      requestsLastMinute: b.metrics.requestsLastMinute(at: now),
                                      tokensLastMinute: b.metrics.tokensLastMinute(at: now),
                                      requests: b.metrics.upstream.requests, status429: b.metrics.upstream.status429,
                                      rate429: b.metrics.recent429Rate(at: now), inFlight: b.metrics.upstream.inFlight)
            return FleetSnapshot(scenario: scenario.name, mode: .live, keying: b.table.keying, now: now,
                                 sampleInterval: b.metrics.sampleInterval, noisyEnabled: b.noisyEnabled, keys: out,
                                 groups: b.metrics.groupSnapshots(), upstream: up, lastChange: b.lastChange,
                                 tuningFactor: scenario.tuning == nil ? nil : b.tuningFactor, tuningMoves: b.tuningMoves)
        }
    }

    /// The report of the run so far (`mode: live`), over `duration` (default: the window, or
    /// real time so far).
    public func report(duration: Nanoseconds? = nil, wallSeconds: Double? = nil) -> FleetReport {
        let now = clock.now()
        let duration = duration ?? Swift.min(now, cutoff)
        return book.withLock { b in
            let current = Set(b.table.keys.map(\.metricsKey))
            let m = b.metrics
            return FleetReport(metrics: m, scenario: scenario.name, mode: .live, seed: seed, duration: duration,
                               keying: b.table.keying,
                               includeKey: { current.contains($0) || m.keys[$0].requests > 0 },
                               tuningFactor: scenario.tuning == nil ? nil : b.tuningFactor, tuningMoves: b.tuningMoves,
                               completed: b.completed, failed: b.failed, wallSeconds: wallSeconds ?? Double(now) / 1e9)
        }
    }

    /// A copy of the metrics now.
    public var metrics: FleetMetrics { book.withLock { $0.metrics } }

    /// Resume time minus admission time (the timer's and the executor's delay) of the requests
    /// that suspended in `acquire`, in milliseconds.
    public func latenessPercentiles() -> WaitPercentiles { book.withLock { $0.lateness.percentiles() } }

    /// Forgets the lateness recorded so far (to measure a steady state after a warm-up).
    public func resetLateness() { book.withLock { $0.lateness.reset() } }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: Sampling

    /// Writes the charts' samples at every sample boundary (the bucket level as of then).
    private func sampler() async {
        let interval = book.withLock { $0.metrics.sampleInterval }
        while !Task.isCancelled {
            let next = (clock.now() / interval + 1) * interval
            do { try await clock.sleep(until: next) } catch { return }
            let keys = book.withLock { $0.table.keys }
            let levels = keys.map { $0.bucket.snapshot().balance }
            let now = clock.now()
            book.withLock { b in
                for (k, level) in zip(keys, levels) { b.metrics.catchUp(key: k.metricsKey, to: now) { _ in level } }
                b.metrics.sampleGroups(to: now)
            }
        }
    }
}

/// The fleet the dashboard opens with `bucketscope --live`: ``LiveFleet`` for `options`, started.
/// Throws ``ScenarioError`` for a bad file, ``FleetError`` for an unknown name or value.
public func makeLiveFleet(_ options: FleetOptions) throws -> any FleetDriver {
    try LiveFleet(options: options)
}
