import Synchronization

/// The lock-protected inside of an async limiter: its exact state (the ledger) and its wait
/// queues, one per domain (a single one for ``Bucket`` and ``LLMLimiter``; one per key, or per
/// parent key, with waiters for ``KeyedBuckets``).
@usableFromInline
protocol WaitingCore: Sendable {
    associatedtype Ledger: WaitLedger
    associatedtype Domain: Hashable & Sendable

    var ledger: Ledger { get set }
    /// Waiter ids, handed out in arrival order across every queue.
    var lastID: UInt64 { get set }
    /// Runs `body` on the domain's queue (empty if it has none) and the ledger; drops the
    /// queue again if it is left idle.
    mutating func withQueue<R>(_ domain: Domain, _ body: (inout WaitQueue<Ledger>, inout Ledger) throws -> R) rethrows -> R
    /// The domains that have a queue now.
    var domains: [Domain] { get }
    /// No task waits and no re-plan is pending in any queue.
    var isIdle: Bool { get }
}

/// The one waiting engine of ``Bucket``, ``KeyedBuckets`` and ``LLMLimiter``: suspends tasks in
/// FIFO queues (``WaitQueue``), one timer task per queue that sleeps until the head's admission
/// instant, exact give-back on cancellation anywhere in a queue, deadlines decided at once, and
/// re-planning on every change of the state.
@usableFromInline
final class WaitEngine<Core: WaitingCore>: Sendable {
    /// The state and the queues; touch them only through ``withCore(_:)``.
    @usableFromInline let core: Mutex<Core>
    @usableFromInline let time: TimeSource
    /// The lock-free `tryAcquire` path of a ``Bucket`` (nil for the other limiters, or where
    /// the CPU lacks a 16-byte compare-and-swap). Open only while ``WaitingCore/isIdle``.
    @usableFromInline let lane: LockFreeLane?
    private let timerGenerations = Atomic<UInt64>(0)

    init(_ core: Core, time: TimeSource) {
        self.core = Mutex(core)
        self.time = time
        self.lane = Core.Ledger.hasLane && LockFreeLane.isAvailable ? LockFreeLane() : nil
    }

    deinit { lane?.deallocate() }

    /// Runs `body` on the core under the lock, with the state taken back from the lane first
    /// and handed to it again afterwards if nothing waits (see ``LockFreeLane``).
    @inlinable
    func withCore<R: Sendable>(_ body: (inout Core) throws -> R) rethrows -> R {
        guard let lane else { return try core.withLock { c in try body(&c) } }
        return try core.withLock { c in
            if let tat = lane.close() { c.ledger.absorbLane(tat) }
            defer {
                if c.isIdle, let seed = c.ledger.laneSeed() { lane.open(seed) }
            }
            return try body(&c)
        }
    }

    // MARK: Waiting

    /// Takes `claim` in `domain`, waiting in FIFO order if need be.
    ///
    /// - Returns: the reservation and the instant `acquire` was called.
    /// - Throws: the ledger's refusal or ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``
    ///   at once, taking nothing; `CancellationError` when cancelled (its tokens given back).
    func acquire(_ claim: Core.Ledger.Claim, in domain: Core.Domain, deadline: Nanoseconds?) async throws
        -> (hold: Core.Ledger.Hold, requestedAt: Nanoseconds) {
        try Task.checkCancellation()
        let requested = time.now()
        // Fast path: nobody waiting and the tokens are there; no suspension.
        let (immediate, due, units, deadline) = withCore { c in
            c.withQueue(domain) { q, ledger in
                var effects = Effects<Core.Ledger.Hold>()
                // The deadline was computed from a clock reading taken before the lock; when
                // another caller's later reading has since moved the time floor past it, the
                // timeout counts from the floor, so a timeout of zero still admits a request
                // the bucket can take at once (instead of "would wait 0 ms").
                let floor = ledger.timeFloor
                let shifted = deadline.map { d -> Nanoseconds in
                    guard floor > requested else { return d }
                    let (v, overflow) = d.addingReportingOverflow(floor - requested)
                    return overflow ? .max : v
                }
                let decision = q.takeNow(claim, at: requested, deadline: shifted, ledger: &ledger, effects: &effects)
                arm(domain, &q, ledger)
                return (decision, effects, ledger.units(claim), shifted)
            }
        }
        due.resumeAll()
        switch immediate {
        case .taken(let hold): return (hold, requested)
        case .refused(let error): throw error
        case .wait: break
        }
        let ticket = WaiterTicket()
        let hold = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Core.Ledger.Hold, any Error>) in
                let t = time.now()
                let effects = withCore { c in
                    c.lastID += 1
                    let id = c.lastID
                    ticket.id.store(id, ordering: .relaxed)
                    // Read under the lock, after the ticket is set: a cancellation handler that
                    // ran before saw no ticket, and then the flag is already set here.
                    let cancelled = Task.isCancelled
                    return c.withQueue(domain) { q, ledger in
                        var effects = Effects<Core.Ledger.Hold>()
                        q.enqueue(QueuedWaiter(id: id, claim: claim, units: units, requestedAt: requested,
                                               deadline: deadline, continuation: continuation),
                                  at: t, cancelled: cancelled, ledger: &ledger, effects: &effects)
                        arm(domain, &q, ledger)
                        return effects
                    }
                }
                effects.resumeAll()
            }
        } onCancel: {
            let t = time.now()
            let effects = withCore { c in
                c.withQueue(domain) { q, ledger in
                    var effects = Effects<Core.Ledger.Hold>()
                    q.cancel(id: ticket.id.load(ordering: .relaxed), at: t, ledger: &ledger, effects: &effects)
                    arm(domain, &q, ledger)
                    return effects
                }
            }
            effects.resumeAll()
        }
        return (hold, requested)
    }

    // MARK: Changing the state

    /// Unwinds the waiters of `domains` (every domain when nil), applies `change` to the
    /// ledger, and queues the waiters again in their arrival order, at the new state as of now.
    /// Waiters that no longer fit (cost above a new capacity, admission past their deadline)
    /// fail and give their tokens back.
    ///
    /// - Complexity: O(waiters in `domains`) under the lock, for every change, including a
    ///   `refund`, `charge` or LLM `reconcile` on a queue with waiters. Why not O(1) by
    ///   shifting only the head's plan and computing later ones lazily: a waiter's plan is
    ///   not a function of the head's. Each reservation is accounted at its own admission
    ///   instant (`notBefore`, so a bucket's burst bound holds for the instants requests
    ///   really act), and records the refill it skipped (`gap`) and the floor before it, for
    ///   its exact rollback. A refund or charge moves every later instant by an amount that
    ///   depends on where the clamps (a full bucket, a parent or another LLM dimension
    ///   admitting later, a deadline) fall along the queue, and it changes which waiters
    ///   fail their deadlines; a lazy form would have to store the plan relative to a
    ///   per-queue offset and replay those clamps on demand, in all three ledgers, and an
    ///   `acquire` after the change still needs the exact tail to queue behind. Doing it
    ///   eagerly keeps one code path for re-planning (the one cancellation and
    ///   reconfiguration use) and exact arithmetic, at one rollback and one reservation per
    ///   waiter. A caller that reconciles every response while thousands of tasks wait pays
    ///   that per call.
    func replan<R: Sendable>(_ domains: @autoclosure () -> [Core.Domain]?,
                             _ change: (inout Core.Ledger, Nanoseconds) throws -> R) rethrows -> R {
        try replan(domains(), change) { result, _, _, _ in result }
    }

    /// ``replan(_:_:)`` that ends by reading the ledger with `read` under the same lock, once
    /// the waiters are queued again: what a bucket holds after the change and the re-plan.
    /// `read` gets the change's result, and whether waiters were re-planned after it (when
    /// not, the result may already be the reading).
    func replan<R, Out: Sendable>(_ domains: @autoclosure () -> [Core.Domain]?,
                                  _ change: (inout Core.Ledger, Nanoseconds) throws -> R,
                                  read: (R, Core.Ledger, Nanoseconds, Bool) -> Out) rethrows -> Out {
        let t = time.now()
        // Nobody waits anywhere (the common case for a server's refunds and charges): nothing
        // to unwind or re-plan, so no queue is looked up and nothing is collected.
        if let done = try withCore({ c -> Out? in
            guard c.isIdle else { return nil }
            let at = Swift.max(t, c.ledger.timeFloor)
            let result = try change(&c.ledger, at)
            return read(result, c.ledger, at, false)
        }) {
            return done
        }
        var effects = Effects<Core.Ledger.Hold>()
        defer { effects.resumeAll() }
        let domains = domains()
        return try withCore { c in
            var unwound: [(Core.Domain, QueuedWaiter<Core.Ledger>)] = []
            var seen = Set<Core.Domain>()
            for d in domains ?? c.domains where seen.insert(d).inserted {
                c.withQueue(d) { q, ledger in
                    for w in q.unwindAll(at: t, ledger: &ledger, effects: &effects) { unwound.append((d, w)) }
                }
            }
            let result: R
            let at = Swift.max(t, c.ledger.timeFloor)
            do {
                result = try change(&c.ledger, at)
            } catch {
                reappend(unwound, in: &c, at: t, effects: &effects)
                throw error
            }
            reappend(unwound, in: &c, at: t, effects: &effects)
            for d in seen { c.withQueue(d) { q, ledger in arm(d, &q, ledger) } }
            return read(result, c.ledger, Swift.max(at, c.ledger.timeFloor), true)
        }
    }

    private func reappend(_ unwound: [(Core.Domain, QueuedWaiter<Core.Ledger>)], in c: inout Core, at t: Nanoseconds,
                          effects: inout Effects<Core.Ledger.Hold>) {
        // Queues are disjoint in the usual case; in arrival order across them otherwise.
        let ordered = unwound.count > 1 && Set(unwound.map(\.0)).count > 1 ? unwound.sorted { $0.1.id < $1.1.id } : unwound
        for (d, w) in ordered {
            c.withQueue(d) { q, ledger in q.reappend([w], at: t, ledger: &ledger, effects: &effects) }
        }
    }

    /// Runs `body` on the ledger after settling the domain's due waiters and pending re-plan.
    func read<R: Sendable>(_ domain: Core.Domain, _ body: (WaitQueue<Core.Ledger>, Core.Ledger, Nanoseconds) -> R) -> R {
        let t = time.now()
        var effects = Effects<Core.Ledger.Hold>()
        defer { effects.resumeAll() }
        return withCore { c in
            // No queue anywhere: nothing due, nothing to settle.
            if c.isIdle { return body(WaitQueue(), c.ledger, Swift.max(t, c.ledger.timeFloor)) }
            return c.withQueue(domain) { q, ledger in
                let now = Swift.max(t, ledger.timeFloor)
                q.popDue(at: now, ledger: &ledger, effects: &effects)
                arm(domain, &q, ledger)
                return body(q, ledger, now)
            }
        }
    }

    /// Settles every queue's due waiters and pending re-plans, then runs `body` on the ledger.
    func readAll<R: Sendable>(_ body: (Core.Ledger, Nanoseconds) -> R) -> R {
        let t = time.now()
        var effects = Effects<Core.Ledger.Hold>()
        defer { effects.resumeAll() }
        return withCore { c in
            for d in c.domains {
                c.withQueue(d) { q, ledger in
                    q.popDue(at: Swift.max(t, ledger.timeFloor), ledger: &ledger, effects: &effects)
                    arm(d, &q, ledger)
                }
            }
            return body(c.ledger, Swift.max(t, c.ledger.timeFloor))
        }
    }

    // MARK: The timers

    /// Makes sure a timer is asleep until the queue's first admission or pending re-plan (or
    /// earlier), and that an empty queue has none.
    private func arm(_ domain: Core.Domain, _ q: inout WaitQueue<Core.Ledger>, _ ledger: Core.Ledger) {
        guard let deadline = q.nextWake(ledger) else {
            q.timer?.cancel()
            q.timer = nil
            q.timerDeadline = nil
            return
        }
        if let armed = q.timerDeadline, armed <= deadline { return }
        q.timer?.cancel()
        // Unique across queues, so a timer of a dropped queue never fires for its successor.
        let generation = timerGenerations.add(1, ordering: .relaxed).newValue
        q.timerGeneration = generation
        q.timerDeadline = deadline
        let time = self.time
        q.timer = Task { [self] in
            do {
                try await time.sleepUntil(deadline)
            } catch {
                return   // superseded by an earlier deadline
            }
            fire(domain, generation)
        }
    }

    private func fire(_ domain: Core.Domain, _ generation: UInt64) {
        let t = time.now()
        let effects = withCore { c in
            c.withQueue(domain) { q, ledger in
                var effects = Effects<Core.Ledger.Hold>()
                guard q.timerGeneration == generation, q.timer != nil else { return effects }
                q.timer = nil
                q.timerDeadline = nil
                let now = Swift.max(t, ledger.timeFloor)
                // Armed for a re-plan that later cancellations pushed back (debounced), with no
                // waiter due yet: only re-arm.
                if let f = q.flushDeadline, f > now, (q.headAdmission(ledger) ?? .max) > now {
                    arm(domain, &q, ledger)
                    return effects
                }
                q.popDue(at: now, ledger: &ledger, effects: &effects)
                arm(domain, &q, ledger)
                return effects
            }
        }
        effects.resumeAll()
    }
}

/// How a cancellation handler finds its waiter: the id is set, under the lock, when the
/// waiter is queued (0 until then; a task cancelled before that is refused at enqueue).
final class WaiterTicket: Sendable {
    let id = Atomic<UInt64>(0)
}
