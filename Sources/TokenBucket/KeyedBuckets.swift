import Synchronization

/// Thread-safe token buckets by key on a clock: a ``KeyedBucketState`` behind one lock, with
/// the same waiting as ``Bucket``.
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
/// Semantics of the buckets (parents all or nothing, overrides, lossless eviction) are those of
/// ``KeyedBucketState``. The clock is type-erased so the type reads `KeyedBuckets<String>`;
/// pass a ``ManualClock`` in tests.
///
/// ## Waiting
/// ``acquire(_:for:parent:timeout:)`` waits exactly as ``Bucket/acquire(_:)`` does, with one
/// FIFO queue and one timer per bucket that has waiters: per key, or, for requests that name a
/// parent, per parent (a user's waiters and its tenant's other users' waiters share the
/// tenant's queue, so all-or-nothing admission stays first come, first served across them).
/// - **Cancellation** anywhere in a queue throws `CancellationError` and gives the tokens back
///   exactly, to the key's bucket and the parent's; the waiters behind it move up (coalesced as
///   in ``Bucket``: 1 ms after cancellations pause, at most 10 ms into a burst, or at the
///   next operation on that queue).
/// - **Deadlines** fail at once, taking nothing, with
///   ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``.
/// - **Changes** (``setDefaultConfiguration(_:)``, overrides, parent configuration,
///   ``refund(_:for:parent:)``, ``charge(_:for:parent:)``) re-plan the affected waiters in order,
///   as ``Bucket/reconfigure(_:)`` does.
/// - A key with waiters is never evicted (its bucket is not full while anything is promised).
/// - Exactness of the give-back needs each key used consistently while tasks wait on it:
///   always with the same parent, or always without. Waiters queue per parent (or per key
///   without one), and a cancelled waiter's tokens come back by rolling its queue back from
///   the tail, which is exact only if nothing outside that queue took from the same buckets
///   after it. A key that waits under parent `A` while it is also used under parent `B` (or
///   with none), or ``reserve(_:for:parent:)`` reservations interleaved with waiters, puts
///   a foreign reservation on the key's bucket: the buckets still never admit more than they
///   allow, but a cancelled waiter behind that reservation keeps its tokens (they return by
///   refill, not at once). This is not refused: telling it apart would need a per-key record
///   of the parent it waits under (memory for every waiting key, kept in step with every
///   admission, cancellation and re-plan); a server keys its buckets by a fixed
///   user → tenant map, where it cannot happen.
///
/// - Complexity: ``tryAcquire(_:for:parent:)`` is one clock read, one lock and O(1) expected
///   hash lookups; waiting costs one queue entry, plus one timer task per bucket with waiters;
///   ``refund(_:for:parent:)`` and ``charge(_:for:parent:)`` re-plan the waiters of that key's
///   (or parent's) queue, configuration changes those of every queue: O(waiters re-planned).
public final class KeyedBuckets<Key: Hashable & Sendable>: Sendable {
    @usableFromInline let engine: WaitEngine<KeyedCore<Key>>

    /// Buckets on `configuration` (and parents on `parent`), timed on `clock`.
    public init<C: Clock>(_ configuration: BucketConfiguration, parent: BucketConfiguration? = nil,
                          clock: C = ContinuousClock()) where C.Duration == Duration {
        engine = WaitEngine(KeyedCore(ledger: KeyedBucketState(configuration, parent: parent)), time: TimeSource(clock))
    }

    /// Buckets of `capacity` tokens refilled at `refillPerSecond`.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for bad numbers.
    public convenience init<C: Clock>(capacity: Double, refillPerSecond: Double, parent: BucketConfiguration? = nil,
                                      clock: C = ContinuousClock()) throws where C.Duration == Duration {
        self.init(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond), parent: parent, clock: clock)
    }

    /// Nanoseconds on this limiter's clock since it was made.
    public var now: Nanoseconds { engine.time.now() }

    /// Takes `cost` from the key's bucket (and the parent's) if both have it now and nobody
    /// waits on either; never waits.
    /// - Throws: ``BucketError`` for a bad cost or one above a capacity.
    @inlinable
    public func tryAcquire(_ cost: Double = 1, for key: Key, parent: Key? = nil) throws -> Bool {
        let t = engine.time.now()
        return try engine.withCore { c in try c.ledger.tryAcquire(cost, for: key, parent: parent, at: t) }
    }

    /// ``tryAcquire(_:for:parent:)`` that also says what the key's bucket holds afterwards, read
    /// under the same lock (a server's `remaining` header without a second lookup).
    /// - Returns: the tokens left in the key's bucket after taking `cost`; nil when refused
    ///   (nothing taken).
    /// - Throws: as ``tryAcquire(_:for:parent:)``.
    @inlinable
    public func tryTake(_ cost: Double = 1, for key: Key, parent: Key? = nil) throws -> Double? {
        let t = engine.time.now()
        return try engine.withCore { c in try c.ledger.tryTake(cost, for: key, parent: parent, at: t) }
    }

    /// How long a request for `cost` on the key (and parent) made now would wait for its
    /// admission, behind everything promised there (waiters included): zero when it would be
    /// admitted at once. Takes nothing; what a refusal's `Retry-After` says.
    /// - Throws: ``BucketError`` for a bad cost or one above a capacity.
    @_specialize(exported: true, where Key == String)
    public func admissionDelay(_ cost: Double = 1, for key: Key, parent: Key? = nil) throws -> Duration {
        let t = engine.time.now()
        let wait = try engine.withCore { c in
            let from = Swift.max(t, c.ledger.lastSeen)
            return try c.ledger.admissionTime(for: cost, key: key, parent: parent, at: from) - from
        }
        return .nanoseconds(Swift.max(0, wait))
    }

    /// Reserves `cost` on the key (and parent) now, for a caller that schedules its own work
    /// (no task waits; see the type's notes on mixing this with waiters).
    public func reserve(_ cost: Double = 1, for key: Key, parent: Key? = nil) throws -> KeyedReservation<Key> {
        let t = engine.time.now()
        return try engine.withCore { c in try c.ledger.reserve(cost, for: key, parent: parent, at: t) }
    }

    /// Gives a reservation from ``reserve(_:for:parent:)`` back (see ``KeyedBucketState/cancel(_:at:)``).
    @discardableResult
    public func cancel(_ reservation: inout KeyedReservation<Key>) -> Double {
        let t = engine.time.now()
        var r = reservation
        let back = engine.withCore { c in c.ledger.cancel(&r, at: t) }
        reservation = r
        return back
    }

    /// Waits until the key's bucket (and the parent's) admit `cost`, first come, first served.
    ///
    /// - Parameter timeout: when given, fails at once with
    ///   ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``, taking nothing, if the
    ///   admission would come later than that.
    /// - Returns: the ``Admission`` (times since this limiter was made). A caller whose work
    ///   then fails without using the tokens gives them back with ``refund(_:for:parent:)``.
    /// - Throws: ``BucketError`` for bad parameters or a cost above a capacity;
    ///   `CancellationError` if cancelled while waiting (its tokens given back).
    @discardableResult
    public func acquire(_ cost: Double = 1, for key: Key, parent: Key? = nil, timeout: Duration? = nil) async throws -> Admission {
        if let timeout { try TimeSource.checkTimeout(timeout) }
        let units = try TokenUnits.validated(cost)
        let deadline = timeout.map { engine.time.now() + TimeSource.nanoseconds($0) }
        let (r, requested) = try await engine.acquire(KeyedClaim(key: key, parent: parent, units: units),
                                                      in: KeyedCore<Key>.domain(key, parent), deadline: deadline)
        return Admission(cost: cost, requestedAt: .nanoseconds(requested), admittedAt: .nanoseconds(r.admitAt),
                         resumedAt: .nanoseconds(Swift.max(engine.time.now(), r.admitAt)))
    }

    /// Gives `tokens` back to the key (and parent) now, capped at capacity: a request used
    /// less than it took, or failed before using it. Waiters there move up.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0,
    ///   or for a parent without a parent configuration.
    @_specialize(exported: true, where Key == String)
    public func refund(_ tokens: Double, for key: Key, parent: Key? = nil) throws {
        try engine.replan(KeyedCore<Key>.domains(key, parent)) { s, t in
            try s.refund(tokens, for: key, parent: parent, at: t)
        }
    }

    /// Charges `tokens` to the key (and parent) now, even into debt: a request used more.
    /// Waiters there are re-planned behind the debt.
    @_specialize(exported: true, where Key == String)
    public func charge(_ tokens: Double, for key: Key, parent: Key? = nil) throws {
        try engine.replan(KeyedCore<Key>.domains(key, parent)) { s, t in
            try s.charge(tokens, for: key, parent: parent, at: t)
        }
    }

    /// Settles a reservation of `reserved` tokens that turned out to use `used`: refunds the
    /// difference or charges it (into debt if need be), as ``refund(_:for:parent:)`` or
    /// ``charge(_:for:parent:)`` would, and reads the key's level under the same lock (a
    /// server's `remaining` header after reconciling a response's usage).
    /// - Returns: the tokens the key's bucket holds afterwards (0 while in debt).
    /// - Throws: as ``refund(_:for:parent:)``, for amounts that are not finite and >= 0.
    @discardableResult
    @_specialize(exported: true, where Key == String)
    public func settle(reserved: Double, used: Double, for key: Key, parent: Key? = nil) throws -> Double {
        guard reserved.isFinite, reserved >= 0 else {
            throw BucketError.invalidParameter(name: "reserved", value: reserved, requirement: "a finite number >= 0")
        }
        guard used.isFinite, used >= 0 else {
            throw BucketError.invalidParameter(name: "used", value: used, requirement: "a finite number >= 0")
        }
        return try engine.replan(KeyedCore<Key>.domains(key, parent), { s, t in
            try s.settle(reserved: reserved, used: used, for: key, parent: parent, at: t)
        }, read: { level, s, t, replanned in replanned ? s.tokens(for: key, at: t) : level })
    }

    // MARK: Configuration

    public var defaultConfiguration: BucketConfiguration { engine.withCore { $0.ledger.defaultConfiguration } }

    /// Changes every key without an override (see ``KeyedBucketState/setDefaultConfiguration(_:at:)``);
    /// waiting tasks are re-planned at the new rates.
    public func setDefaultConfiguration(_ configuration: BucketConfiguration) {
        engine.replan(nil) { s, t in s.setDefaultConfiguration(configuration, at: t) }
    }

    /// See ``KeyedBucketState/setParentConfiguration(_:at:)``; waiting tasks are re-planned.
    public func setParentConfiguration(_ configuration: BucketConfiguration?) {
        engine.replan(nil) { s, t in s.setParentConfiguration(configuration, at: t) }
    }

    /// See ``KeyedBucketState/setOverride(_:for:at:)``; waiting tasks are re-planned.
    public func setOverride(_ configuration: BucketConfiguration?, for key: Key) {
        engine.replan(nil) { s, t in s.setOverride(configuration, for: key, at: t) }
    }

    /// See ``KeyedBucketState/setParentOverride(_:for:at:)``; waiting tasks are re-planned.
    public func setParentOverride(_ configuration: BucketConfiguration?, for parent: Key) throws {
        try engine.replan(nil) { s, t in try s.setParentOverride(configuration, for: parent, at: t) }
    }

    public func configuration(for key: Key) -> BucketConfiguration { engine.withCore { $0.ledger.configuration(for: key) } }

    // MARK: Read-outs

    /// Tokens the key's bucket holds now (after settling the re-plan of cancelled waiters in
    /// the queue the key waits in: its own, or `parent`'s).
    @_specialize(exported: true, where Key == String)
    public func tokens(for key: Key, parent: Key? = nil) -> Double {
        engine.read(KeyedCore<Key>.domain(key, parent)) { _, s, t in s.tokens(for: key, at: t) }
    }

    /// Tokens the parent's bucket holds now (nil when parents are not enabled).
    public func parentTokens(for parent: Key) -> Double? {
        engine.read(.parent(parent)) { _, s, t in s.parentTokens(for: parent, at: t) }
    }

    /// Tasks waiting in ``acquire(_:for:parent:timeout:)`` on `key` (with `parent`: in the
    /// parent's queue, which also holds its other keys' waiters).
    public func waiters(for key: Key, parent: Key? = nil) -> Int {
        engine.read(KeyedCore<Key>.domain(key, parent)) { q, _, _ in q.count }
    }

    /// Tasks waiting in ``acquire(_:for:parent:timeout:)``, over every key.
    public var waiting: Int { engine.withCore { c in c.queues.values.reduce(0) { $0 + $1.count } } }

    /// Keys whose state is held.
    public var count: Int { engine.withCore { $0.ledger.count } }

    /// Drops full, idle keys now (lossless; a key with waiters is never full). Runs on its own
    /// as keys are added; call it to release memory after a burst of keys sooner.
    @discardableResult
    public func evictIdle() -> Int {
        let t = engine.time.now()
        return engine.withCore { $0.ledger.evictIdle(at: t) }
    }

    /// A copy of the whole keyed state, for dashboards and tests (every queue's pending
    /// re-plans settled first).
    public func snapshot() -> KeyedBucketState<Key> { engine.readAll { s, _ in s } }
}

/// Where a keyed waiter queues: its key's own queue, or its parent's.
@usableFromInline
enum KeyedDomain<Key: Hashable & Sendable>: Hashable, Sendable {
    case key(Key)
    case parent(Key)
}

/// The inside of ``KeyedBuckets``: the keyed state and a wait queue per bucket with waiters.
@usableFromInline
struct KeyedCore<Key: Hashable & Sendable>: WaitingCore {
    @usableFromInline var ledger: KeyedBucketState<Key>
    var queues: [KeyedDomain<Key>: WaitQueue<KeyedBucketState<Key>>] = [:]
    @usableFromInline var lastID: UInt64 = 0

    @usableFromInline
    init(ledger: KeyedBucketState<Key>) { self.ledger = ledger }

    static func domain(_ key: Key, _ parent: Key?) -> KeyedDomain<Key> { parent.map { .parent($0) } ?? .key(key) }

    /// The queues a change to `key` (and `parent`) can touch.
    static func domains(_ key: Key, _ parent: Key?) -> [KeyedDomain<Key>] {
        parent.map { [.parent($0), .key(key)] } ?? [.key(key)]
    }

    @usableFromInline mutating func withQueue<R>(_ domain: KeyedDomain<Key>,
                               _ body: (inout WaitQueue<KeyedBucketState<Key>>, inout KeyedBucketState<Key>) throws -> R) rethrows -> R {
        var q = queues.removeValue(forKey: domain) ?? WaitQueue()
        defer { if !q.isIdle { queues[domain] = q } }
        return try body(&q, &ledger)
    }

    @usableFromInline var domains: [KeyedDomain<Key>] { Array(queues.keys) }

    @usableFromInline var isIdle: Bool { queues.isEmpty }
}
