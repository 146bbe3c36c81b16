import Synchronization

/// Thread-safe token buckets by key on a clock: a ``KeyedBucketState`` behind one lock.
///
/// ```swift
/// let perUser = try KeyedBuckets<String>(capacity: 10, refillPerSecond: 1)
/// guard try perUser.tryAcquire(1, for: userID) else { return .tooManyRequests }
///
/// // Per-user buckets under a per-tenant one; wait (up to 2 s) instead of refusing:
/// let limits = try KeyedBuckets<String>(capacity: 10, refillPerSecond: 1,
///                                       parent: BucketConfiguration(capacity: 100, refillPerSecond: 20))
/// try await limits.acquire(1, for: userID, parent: tenantID, timeout: .seconds(2))
/// ```
///
/// Semantics (parents all or nothing, overrides, lossless eviction) are those of
/// ``KeyedBucketState``. The clock is type-erased so the type reads `KeyedBuckets<String>`;
/// pass a ``ManualClock`` in tests.
///
/// Waiting: ``acquire(_:for:parent:timeout:)`` reserves at once (FIFO per key) and sleeps on
/// the clock until the admission instant. Unlike ``Bucket`` it uses one sleep per waiting task
/// (keyed waits are short and spread over many keys). A cancelled waiter throws
/// `CancellationError` and gives its tokens back if nothing was reserved on its buckets after
/// it (see ``KeyedBucketState/cancel(_:at:)``); otherwise its tokens stay taken, which never
/// admits more than the buckets allow.
///
/// - Complexity: ``tryAcquire(_:for:parent:)`` is one clock read, one lock and O(1) expected
///   hash lookups.
public final class KeyedBuckets<Key: Hashable & Sendable>: Sendable {
    @usableFromInline let state: Mutex<KeyedBucketState<Key>>
    @usableFromInline let time: TimeSource

    /// Buckets on `configuration` (and parents on `parent`), timed on `clock`.
    public init<C: Clock>(_ configuration: BucketConfiguration, parent: BucketConfiguration? = nil,
                          clock: C = ContinuousClock()) where C.Duration == Duration {
        state = Mutex(KeyedBucketState(configuration, parent: parent))
        time = TimeSource(clock)
    }

    /// Buckets of `capacity` tokens refilled at `refillPerSecond`.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for bad numbers.
    public convenience init<C: Clock>(capacity: Double, refillPerSecond: Double, parent: BucketConfiguration? = nil,
                                      clock: C = ContinuousClock()) throws where C.Duration == Duration {
        self.init(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond), parent: parent, clock: clock)
    }

    /// Nanoseconds on this limiter's clock since it was made.
    public var now: Nanoseconds { time.now() }

    /// Takes `cost` from the key's bucket (and the parent's) if both have it now; never waits.
    /// - Throws: ``BucketError`` for a bad cost or one above a capacity.
    @inlinable
    public func tryAcquire(_ cost: Double = 1, for key: Key, parent: Key? = nil) throws -> Bool {
        let t = time.now()
        return try state.withLock { s in try s.tryAcquire(cost, for: key, parent: parent, at: t) }
    }

    /// Reserves `cost` on the key (and parent) now, for a caller that schedules its own work.
    public func reserve(_ cost: Double = 1, for key: Key, parent: Key? = nil) throws -> KeyedReservation<Key> {
        let t = time.now()
        return try state.withLock { s in try s.reserve(cost, for: key, parent: parent, at: t) }
    }

    /// Gives a reservation back (see ``KeyedBucketState/cancel(_:at:)``).
    @discardableResult
    public func cancel(_ reservation: inout KeyedReservation<Key>) -> Double {
        let t = time.now()
        var r = reservation
        let back = state.withLock { s in s.cancel(&r, at: t) }
        reservation = r
        return back
    }

    /// Waits until the key's bucket (and the parent's) admit `cost`, FIFO per key.
    ///
    /// - Parameter timeout: when given, fails at once with
    ///   ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``, taking nothing, if the
    ///   admission would come later than that.
    /// - Returns: the ``Admission`` (times since this limiter was made).
    /// - Throws: ``BucketError`` for bad parameters; `CancellationError` if cancelled while waiting.
    @discardableResult
    public func acquire(_ cost: Double = 1, for key: Key, parent: Key? = nil, timeout: Duration? = nil) async throws -> Admission {
        try Task.checkCancellation()
        if let timeout, timeout < .zero {
            throw BucketError.invalidParameter(name: "timeout", value: Double(TimeSource.nanoseconds(timeout)) / 1e9, requirement: ">= 0 seconds")
        }
        let t = time.now()
        var reservation = try state.withLock { s throws -> KeyedReservation<Key> in
            if let timeout {
                let admit = try s.admissionTime(for: cost, key: key, parent: parent, at: t)
                let allowed = TimeSource.nanoseconds(timeout)
                if admit - t > allowed {
                    throw BucketError.deadlineExceeded(wouldAdmitAfter: .nanoseconds(admit - t), allowed: timeout)
                }
            }
            return try s.reserve(cost, for: key, parent: parent, at: t)
        }
        if reservation.admitAt > reservation.requestedAt {
            do {
                try await time.sleepUntil(reservation.admitAt)
            } catch {
                cancel(&reservation)
                throw CancellationError()
            }
        }
        return Admission(cost: cost, requestedAt: .nanoseconds(reservation.requestedAt),
                         admittedAt: .nanoseconds(reservation.admitAt),
                         resumedAt: .nanoseconds(Swift.max(time.now(), reservation.admitAt)))
    }

    /// Refunds `tokens` to the key (and parent) now: a request used less than it took.
    public func refund(_ tokens: Double, for key: Key, parent: Key? = nil) throws {
        let t = time.now()
        try state.withLock { s in try s.refund(tokens, for: key, parent: parent, at: t) }
    }

    /// Charges `tokens` to the key (and parent) now, even into debt: a request used more.
    public func charge(_ tokens: Double, for key: Key, parent: Key? = nil) throws {
        let t = time.now()
        try state.withLock { s in try s.charge(tokens, for: key, parent: parent, at: t) }
    }

    // MARK: Configuration

    public var defaultConfiguration: BucketConfiguration { state.withLock { $0.defaultConfiguration } }

    /// See ``KeyedBucketState/setDefaultConfiguration(_:at:)``.
    public func setDefaultConfiguration(_ configuration: BucketConfiguration) {
        let t = time.now()
        state.withLock { $0.setDefaultConfiguration(configuration, at: t) }
    }

    /// See ``KeyedBucketState/setParentConfiguration(_:at:)``.
    public func setParentConfiguration(_ configuration: BucketConfiguration?) {
        let t = time.now()
        state.withLock { $0.setParentConfiguration(configuration, at: t) }
    }

    /// See ``KeyedBucketState/setOverride(_:for:at:)``.
    public func setOverride(_ configuration: BucketConfiguration?, for key: Key) {
        let t = time.now()
        state.withLock { $0.setOverride(configuration, for: key, at: t) }
    }

    /// See ``KeyedBucketState/setParentOverride(_:for:at:)``.
    public func setParentOverride(_ configuration: BucketConfiguration?, for parent: Key) throws {
        let t = time.now()
        try state.withLock { try $0.setParentOverride(configuration, for: parent, at: t) }
    }

    public func configuration(for key: Key) -> BucketConfiguration { state.withLock { $0.configuration(for: key) } }

    // MARK: Read-outs

    /// Tokens the key's bucket holds now.
    public func tokens(for key: Key) -> Double {
        let t = time.now()
        return state.withLock { $0.tokens(for: key, at: t) }
    }

    /// Keys whose state is held.
    public var count: Int { state.withLock { $0.count } }

    /// Drops full, idle keys now (lossless). Runs on its own as keys are added; call it to
    /// release memory after a burst of keys sooner.
    @discardableResult
    public func evictIdle() -> Int {
        let t = time.now()
        return state.withLock { $0.evictIdle(at: t) }
    }

    /// A copy of the whole keyed state, for dashboards and tests.
    public func snapshot() -> KeyedBucketState<Key> { state.withLock { $0 } }
}
