import Synchronization

/// A thread-safe token bucket that async tasks wait on, first come first served.
///
/// It holds up to `capacity` tokens and gains `refill` per second, continuously; it starts full.
/// ``acquire(_:)`` takes `cost` tokens, suspending the calling task (without blocking a thread
/// and without polling) until they are there and every earlier waiter has been served.
///
/// ```swift
/// let bucket = try Bucket(capacity: 10, refillPerSecond: 2)
/// try await bucket.acquire(3)                  // at once: the bucket starts full
/// try await bucket.acquire(10)                 // waits 1.5 s for 10 tokens
/// if try bucket.tryAcquire(1) { /* ... */ }    // never waits
/// let admitted = try await bucket.acquire(2, timeout: .seconds(1))   // or fails at once
/// ```
///
/// ## How waiting works
/// Each `acquire` reserves its tokens in an exact ``BucketState`` the moment it is called, so its
/// admission instant is known at once and later calls queue behind it. Suspended tasks sit in a
/// FIFO queue; one timer per bucket sleeps on the clock until the first waiter's admission
/// instant, resumes every waiter that is due, in order, and sleeps again for the next. Ten
/// thousand waiters cost ten thousand queue entries and one sleeping timer task. This waiting
/// engine (``WaitQueue``) is the one ``KeyedBuckets`` and ``LLMLimiter`` use too, so everything
/// below holds for them as well.
///
/// On the `ContinuousClock` times are read from ``FastClock`` (the CPU's time-stamp counter,
/// calibrated to that clock) where it is TSC-backed; the timer sleeps on `ContinuousClock`.
///
/// ## Semantics
/// - **Cancellation**: cancelling a waiting task removes it and its `acquire` throws
///   `CancellationError` at once (the Swift convention, so `try await` callers unwind as for any
///   other cancelled work). Its tokens are given back exactly: the reservations behind it are
///   unwound from the tail (each an exact rollback) and re-reserved in their original order, so
///   later waiters move up. To make a burst of cancellations (a task group cancelled with
///   thousands of waiters) cost one pass instead of one per task, that re-plan happens at the
///   next operation on the bucket (`acquire`, ``snapshot()``, ``tokens``, ``reconfigure(_:)``...)
///   or once cancellations pause for 1 ms (at the latest 10 ms after the first of a burst
///   that keeps going); until then waiters keep their old, later plans and
///   ``tryAcquire(_:)`` sees them. Cancelling the last waiter is given back on the spot. A task
///   cancelled after its admission instant has passed is admitted (the tokens were already its
///   own). A task cancelled before it calls `acquire` takes nothing and throws
///   `CancellationError`.
/// - **Deadlines**: ``acquire(_:deadline:)`` and ``acquire(_:timeout:)`` compute the admission
///   instant first and throw ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)`` at once,
///   consuming nothing, when it is after the deadline. If a later re-plan (a slower
///   ``reconfigure(_:)``) pushes a queued waiter past its deadline, that waiter fails then with
///   the same error and gives its tokens back.
/// - **Reconfiguration** while tasks wait: see ``reconfigure(_:)``.
///
/// - Complexity: ``tryAcquire(_:)`` is O(1): while nobody waits, one clock read and one
///   compare-and-swap with no lock (a lock-free lane holds the bucket's state then; every
///   other operation takes it back under the lock first, so it never goes ahead of a
///   waiter); an `acquire` that need not wait is O(1) under one lock; a waiting `acquire` is O(1) plus one suspension; cancelling a waiter is O(log waiters)
///   to find it plus one coalesced O(waiters behind it) re-plan per burst; reconfiguring is
///   O(waiters).
public final class Bucket<C: Clock>: Sendable where C.Duration == Duration {
    /// The clock admissions are timed on.
    public let clock: C
    /// The instant the bucket was made; ``Admission`` and ``BucketSnapshot`` times are offsets
    /// from it.
    public let origin: C.Instant

    @usableFromInline let engine: WaitEngine<SingleQueueCore<BucketState>>
    /// On the `ContinuousClock` with a TSC-backed ``FastClock``: the ``FastClock`` reading at
    /// ``origin``. Times are then read from ``FastClock`` (a third of the cost), which follows
    /// the `ContinuousClock` timeline (see its guarantees).
    @usableFromInline let fastOrigin: Int64?
    /// ``FastTimeBase/shared``, held here so a read skips the global's lazy-initialisation check.
    @usableFromInline let fastBase: FastTimeBase

    /// A full bucket with `configuration`, timed on `clock`.
    public init(_ configuration: BucketConfiguration, clock: C) {
        self.clock = clock
        // The time base first: its first use calibrates for 1 ms, which must not come between
        // the two readings of the origin.
        let base = FastTimeBase.shared
        let fast = C.self == ContinuousClock.self && base.usable ? base.now() : nil
        let origin = clock.now
        self.origin = origin
        self.fastOrigin = fast
        self.fastBase = base
        self.engine = WaitEngine(SingleQueueCore(ledger: BucketState(configuration)),
                                 time: fast.map { TimeSource.fast(origin: $0) } ?? TimeSource(clock, origin: origin))
    }

    /// A full bucket of `capacity` tokens refilled at `refillPerSecond`, timed on `clock`.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a capacity or
    ///   refill that is not finite and > 0.
    public convenience init(capacity: Double, refillPerSecond: Double, clock: C) throws {
        self.init(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond), clock: clock)
    }

    // MARK: Time

    /// Nanoseconds from ``origin`` to `instant`.
    @inlinable
    public func offset(of instant: C.Instant) -> Nanoseconds {
        Bucket.nanoseconds(origin.duration(to: instant))
    }

    /// The clock's instant at `offset` nanoseconds after ``origin``.
    public func instant(at offset: Nanoseconds) -> C.Instant { origin.advanced(by: .nanoseconds(offset)) }

    @inlinable
    func now() -> Nanoseconds {
        if let o = fastOrigin { return fastBase.counterNow() &- o }
        return offset(of: clock.now)
    }

    @inlinable
    static func nanoseconds(_ d: Duration) -> Nanoseconds { TimeSource.nanoseconds(d) }

    // MARK: Taking tokens

    /// Takes `cost` tokens if they are there now and nobody is waiting; never waits.
    ///
    /// ```swift
    /// guard try bucket.tryAcquire() else { return .tooManyRequests }
    /// ```
    /// - Returns: `true` when the tokens were taken.
    /// - Throws: ``BucketError`` for a cost that is not finite and > 0, or above capacity.
    /// - Complexity: O(1): one clock read and, while nobody waits, one compare-and-swap and
    ///   no lock (``LockFreeLane``); one lock otherwise.
    @inlinable
    public func tryAcquire(_ cost: Double = 1) throws -> Bool {
        let t = now()
        if let lane = engine.lane, let taken = lane.tryAcquire(units: try TokenUnits.validated(cost), at: t) {
            return taken
        }
        return try engine.withCore { c in try c.ledger.tryAcquire(cost, at: t) }
    }

    /// Waits until `cost` tokens are there and every earlier waiter is served, then takes them.
    ///
    /// - Returns: the ``Admission`` (request, admission and resume instants). A caller whose
    ///   work then fails without using the tokens may give them back with ``refund(_:)``.
    /// - Throws: ``BucketError`` for a bad cost or one above capacity (at once, nothing taken);
    ///   `CancellationError` when the task is cancelled while waiting (tokens given back).
    @discardableResult
    public func acquire(_ cost: Double = 1) async throws -> Admission {
        try await acquire(cost, deadlineOffset: nil)
    }

    /// ``acquire(_:)`` that fails at once with ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``,
    /// taking nothing, when the admission would come after `deadline`.
    @discardableResult
    public func acquire(_ cost: Double = 1, deadline: C.Instant) async throws -> Admission {
        try await acquire(cost, deadlineOffset: offset(of: deadline))
    }

    /// ``acquire(_:deadline:)`` with the deadline `timeout` from now.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a negative timeout.
    @discardableResult
    public func acquire(_ cost: Double = 1, timeout: Duration) async throws -> Admission {
        try TimeSource.checkTimeout(timeout)
        return try await acquire(cost, deadlineOffset: now() + Bucket.nanoseconds(timeout))
    }

    private func acquire(_ cost: Double, deadlineOffset: Nanoseconds?) async throws -> Admission {
        let units = try TokenUnits.validated(cost)
        let (r, requested) = try await engine.acquire(units, in: .only, deadline: deadlineOffset)
        return Admission(cost: cost, requestedAt: .nanoseconds(requested), admittedAt: .nanoseconds(r.admitAt),
                         resumedAt: .nanoseconds(Swift.max(now(), r.admitAt)))
    }

    // MARK: Changing the bucket

    /// Changes capacity and refill now, re-planning every waiting task at the new rate.
    ///
    /// - Tokens in the bucket are kept, capped at the new capacity.
    /// - Waiting tasks keep their order. Their reservations are unwound (exactly, from the
    ///   tail) and made again, in order, at the new rate as of now: a faster refill moves them
    ///   up, a slower one moves them back. A waiter whose admission instant has already passed
    ///   is admitted as planned.
    /// - A waiter whose cost exceeds the new capacity fails with
    ///   ``BucketError/costExceedsCapacity(cost:capacity:)``; one whose new admission falls
    ///   after its deadline fails with ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``.
    ///   Either gives its tokens back.
    ///
    /// - Complexity: O(waiters).
    public func reconfigure(_ configuration: BucketConfiguration) {
        engine.replan(nil) { state, t in state.reconfigure(configuration, at: t) }
    }

    /// ``reconfigure(_:)`` from plain numbers.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a capacity or
    ///   refill that is not finite and > 0; the bucket is left unchanged.
    public func reconfigure(capacity: Double, refillPerSecond: Double) throws {
        reconfigure(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond))
    }

    /// Gives `tokens` back now (capped at capacity): a request used less than it took, or
    /// its work failed before using them. Waiting tasks are re-planned, so they move up by
    /// what was given back.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0.
    public func refund(_ tokens: Double) throws {
        try TokenUnits.checkAmount(tokens, name: "refund")
        engine.replan(nil) { state, t in try? state.refund(tokens, at: t) }
    }

    /// Takes `tokens` now even into debt: a request used more than it took. Waiting tasks
    /// are re-planned behind the debt.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0.
    public func charge(_ tokens: Double) throws {
        try TokenUnits.checkAmount(tokens, name: "charge")
        engine.replan(nil) { state, t in try? state.charge(tokens, at: t) }
    }

    // MARK: Read-outs

    /// Capacity and refill now.
    public var configuration: BucketConfiguration { engine.withCore { $0.ledger.configuration } }

    /// Tokens available to take now.
    public var tokens: Double {
        engine.read(.only) { _, state, t in state.tokens(at: t) }
    }

    /// Tokens, waiters, queued cost and the oldest wait, read together under one lock.
    public func snapshot() -> BucketSnapshot {
        engine.read(.only) { q, state, t in
            let count = q.count
            return BucketSnapshot(
                configuration: state.configuration,
                at: .nanoseconds(t),
                tokens: state.tokens(at: t),
                balance: state.balance(at: t),
                waiters: count,
                queuedCost: TokenUnits.tokens(q.queuedUnits),
                oldestWait: .nanoseconds(q.oldestWait(at: t)),
                nextAdmission: q.headAdmission(state).map { .nanoseconds($0) })
        }
    }
}

extension Bucket where C == ContinuousClock {
    /// A full bucket on the `ContinuousClock`.
    public convenience init(_ configuration: BucketConfiguration) {
        self.init(configuration, clock: ContinuousClock())
    }

    /// A full bucket of `capacity` tokens refilled at `refillPerSecond`, on the `ContinuousClock`.
    ///
    /// ```swift
    /// let bucket = try Bucket(capacity: 10, refillPerSecond: 2)
    /// ```
    public convenience init(capacity: Double, refillPerSecond: Double) throws {
        self.init(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond))
    }
}

/// The inside of an async ``Bucket`` or ``LLMLimiter``: its exact state and one wait queue.
@usableFromInline
struct SingleQueueCore<Ledger: WaitLedger>: WaitingCore {
    @usableFromInline enum Only: Hashable, Sendable { case only }

    @usableFromInline var ledger: Ledger
    var queue = WaitQueue<Ledger>()
    @usableFromInline var lastID: UInt64 = 0

    @usableFromInline
    init(ledger: Ledger) { self.ledger = ledger }

    @usableFromInline mutating func withQueue<R>(_ domain: Only, _ body: (inout WaitQueue<Ledger>, inout Ledger) throws -> R) rethrows -> R {
        try body(&queue, &ledger)
    }

    @usableFromInline var domains: [Only] { [.only] }

    @usableFromInline var isIdle: Bool { queue.isIdle }
}
