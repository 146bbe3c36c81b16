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
/// thousand waiters cost ten thousand queue entries and one sleeping timer task.
///
/// ## Semantics
/// - **Cancellation**: cancelling a waiting task removes it and its `acquire` throws
///   `CancellationError` at once (the Swift convention, so `try await` callers unwind as for any
///   other cancelled work). Its tokens are given back exactly: the reservations behind it are
///   unwound from the tail (each an exact rollback) and re-reserved in their original order, so
///   later waiters move up. To make a burst of cancellations (a task group cancelled with
///   thousands of waiters) cost one pass instead of one per task, that re-plan happens at the
///   next operation on the bucket (`acquire`, ``snapshot()``, ``tokens``, ``reconfigure(_:)``...)
///   or at the latest 1 ms after the cancellation; until then ``tryAcquire(_:)`` sees the old,
///   more conservative plan. Cancelling the last waiter is given back on the spot. A task
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
/// - Complexity: ``tryAcquire(_:)`` and an `acquire` that need not wait are O(1) under one
///   lock; a waiting `acquire` is O(1) plus one suspension; cancelling a waiter is O(log waiters)
///   to find it plus one coalesced O(waiters behind it) re-plan per burst; reconfiguring is
///   O(waiters).
public final class Bucket<C: Clock>: Sendable where C.Duration == Duration {
    /// The clock admissions are timed on.
    public let clock: C
    /// The instant the bucket was made; ``Admission`` and ``BucketSnapshot`` times are offsets
    /// from it.
    public let origin: C.Instant

    @usableFromInline let core: Mutex<BucketCore>

    /// A full bucket with `configuration`, timed on `clock`.
    public init(_ configuration: BucketConfiguration, clock: C) {
        self.clock = clock
        self.origin = clock.now
        self.core = Mutex(BucketCore(state: BucketState(configuration)))
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
    func now() -> Nanoseconds { offset(of: clock.now) }

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
    /// - Complexity: O(1): one clock read and one lock.
    @inlinable
    public func tryAcquire(_ cost: Double = 1) throws -> Bool {
        let t = now()
        return try core.withLock { c in try c.state.tryAcquire(cost, at: t) }
    }

    /// Waits until `cost` tokens are there and every earlier waiter is served, then takes them.
    ///
    /// - Returns: the ``Admission`` (request, admission and resume instants).
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
        guard timeout >= .zero else {
            let (s, a) = timeout.components
            throw BucketError.invalidParameter(name: "timeout", value: Double(s) + Double(a) * 1e-18, requirement: ">= 0 seconds")
        }
        return try await acquire(cost, deadlineOffset: now() + Bucket.nanoseconds(timeout))
    }

    private func acquire(_ cost: Double, deadlineOffset: Nanoseconds?) async throws -> Admission {
        try Task.checkCancellation()
        let requested = now()
        // Fast path: nobody waiting and the tokens are there; no suspension.
        let (units, immediate) = try core.withLock { c in
            if c.dirtyFrom != nil {
                c.flush(at: requested)
                arm(&c)
            }
            let u = try c.state.units(for: cost)
            let t = Swift.max(requested, c.state.lastSeenTime)
            if let d = deadlineOffset, d < t {
                throw BucketError.deadlineExceeded(wouldAdmitAfter: .zero, allowed: .nanoseconds(d - t))
            }
            return (u, c.state.tryAcquire(units: u, at: t) ? t : nil)
        }
        let admitted: Nanoseconds
        if let immediate {
            admitted = immediate
        } else {
            let ticket = WaiterTicket()
            admitted = try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Nanoseconds, any Error>) in
                    let t = now()
                    let cancelled = Task.isCancelled
                    let effects = core.withLock { c in
                        var effects = Effects()
                        c.enqueue(Waiter(units: units, requestedAt: requested, deadline: deadlineOffset,
                                         continuation: continuation),
                                  ticket: ticket, at: t, cancelled: cancelled, effects: &effects)
                        arm(&c)
                        return effects
                    }
                    effects.resumeAll()
                }
            } onCancel: {
                let t = now()
                let effects = core.withLock { c in
                    var effects = Effects()
                    c.cancel(ticket, at: t, effects: &effects)
                    arm(&c)
                    return effects
                }
                effects.resumeAll()
            }
        }
        let resumed = now()
        return Admission(cost: cost, requestedAt: .nanoseconds(requested), admittedAt: .nanoseconds(admitted),
                         resumedAt: .nanoseconds(Swift.max(resumed, admitted)))
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
        replan { state, t in state.reconfigure(configuration, at: t) }
    }

    /// ``reconfigure(_:)`` from plain numbers.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a capacity or
    ///   refill that is not finite and > 0; the bucket is left unchanged.
    public func reconfigure(capacity: Double, refillPerSecond: Double) throws {
        reconfigure(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond))
    }

    /// Gives `tokens` back now (capped at capacity): a request used less than it took. Waiting
    /// tasks are re-planned, so they move up by what was given back.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0.
    public func refund(_ tokens: Double) throws {
        guard tokens.isFinite, tokens >= 0 else {
            throw BucketError.invalidParameter(name: "refund", value: tokens, requirement: "a finite number >= 0")
        }
        replan { state, t in try? state.refund(tokens, at: t) }
    }

    /// Takes `tokens` now even into debt: a request used more than it took. Waiting tasks
    /// are re-planned behind the debt.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0.
    public func charge(_ tokens: Double) throws {
        guard tokens.isFinite, tokens >= 0 else {
            throw BucketError.invalidParameter(name: "charge", value: tokens, requirement: "a finite number >= 0")
        }
        replan { state, t in try? state.charge(tokens, at: t) }
    }

    private func replan(_ change: @Sendable (inout BucketState, Nanoseconds) -> Void) {
        let t = now()
        let effects = core.withLock { c in
            var effects = Effects()
            c.replanAll(at: t, effects: &effects, change: change)
            arm(&c)
            return effects
        }
        effects.resumeAll()
    }

    // MARK: Read-outs

    /// Capacity and refill now.
    public var configuration: BucketConfiguration { core.withLock { $0.state.configuration } }

    /// Tokens available to take now.
    public var tokens: Double {
        let t = now()
        return core.withLock { c in
            if c.dirtyFrom != nil {
                c.flush(at: t)
                arm(&c)
            }
            return c.state.tokens(at: t)
        }
    }

    /// Tokens, waiters, queued cost and the oldest wait, read together under one lock.
    public func snapshot() -> BucketSnapshot {
        let t = now()
        return core.withLock { c in
            let snapshot = c.snapshot(at: t)
            arm(&c)
            return snapshot
        }
    }

    // MARK: The timer

    /// Makes sure a timer is asleep until the first waiter's admission or the pending
    /// re-plan (or earlier).
    private func arm(_ c: inout BucketCore) {
        guard let deadline = c.nextWake else { return }
        if let armed = c.timerDeadline, armed <= deadline { return }
        c.timer?.cancel()
        c.timerGeneration &+= 1
        let generation = c.timerGeneration
        c.timerDeadline = deadline
        c.timer = Task { [self] in
            do {
                try await clock.sleep(until: instant(at: deadline), tolerance: nil)
            } catch {
                return   // superseded by an earlier deadline
            }
            fire(generation)
        }
    }

    private func fire(_ generation: UInt64) {
        let t = now()
        let effects = core.withLock { c in
            var effects = Effects()
            guard c.timerGeneration == generation else { return effects }
            c.timer = nil
            c.timerDeadline = nil
            c.popDue(at: t, effects: &effects)
            arm(&c)
            return effects
        }
        effects.resumeAll()
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
