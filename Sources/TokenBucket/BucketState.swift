/// Nanoseconds on the caller's timeline: virtual time in the simulator, a `Clock` offset in the
/// async bucket, file timestamps in `replay`. Only differences matter.
public typealias Nanoseconds = Int64

/// The exact state of one token bucket, as a value; every operation takes the current time.
///
/// The bucket holds up to `capacity` tokens and gains `refill` tokens per second, continuously.
/// It starts full. A request of cost `c` is admitted once `c` tokens are there, and takes them.
/// Requests are served strictly first come, first served: a reservation queues behind every
/// earlier one, so a large request is never starved by a stream of small ones.
///
/// ```swift
/// var bucket = try BucketState(capacity: 10, refillPerSecond: 2)
/// let now: Nanoseconds = 0
/// try bucket.tryAcquire(4, at: now)          // true: 6 tokens left
/// let r = try bucket.reserve(10, at: now)    // queued: admitted at 2 s, when 10 are there
/// r.admitAt                                  // 2_000_000_000
/// ```
///
/// ## The idea (GCRA)
/// Instead of a token count that must be topped up on every call, the state is a single instant,
/// the *theoretical full time* `tat`: the bucket would hold `capacity` tokens at `tat` if nothing
/// more were taken. Tokens at `t` are `capacity - refill × (tat - t)`, capped at capacity; a
/// reservation moves `tat` later by `cost / refill` and is admitted when the tokens at that
/// time cover it. Reservations already handed out make the count negative: that is the queue.
///
/// ## Exactness
/// With the refill as the fraction `p/q` tokens per second and amounts in nano-tokens, one
/// nano-token takes exactly `q/p` ns. The state keeps `tat × p` as a 128-bit integer, so every
/// step is an integer addition and no error accumulates; the only rounding is the final
/// admission instant, rounded up to the next whole nanosecond. Reconfiguration rounds the stored
/// level once, by less than a nano-token.
///
/// - Complexity: every operation is O(1) with no allocation. The arithmetic lives in `GCRA`,
///   shared with ``KeyedBucketState``.
public struct BucketState: Sendable, Hashable {
    /// Current capacity and refill.
    public private(set) var configuration: BucketConfiguration

    /// The shared arithmetic for the current configuration (refill p/q, capacity, burst).
    @usableFromInline var gcra: GCRA
    /// Theoretical full time × p.
    @usableFromInline var tat: Int128
    /// Cumulative nano-tokens reserved, for exact cancellation.
    @usableFromInline var reservedTotal: Int128 = 0
    /// The latest admission instant handed out: no later reservation is admitted before it.
    @usableFromInline var lastAdmit: Nanoseconds = .min
    /// The latest time seen; time never runs backwards inside the state.
    @usableFromInline var lastSeen: Nanoseconds = .min
    /// Where the last reconfiguration took over (see ``reconfigure(_:at:)``): cancelling a
    /// reservation made before it never lowers the FIFO floor below it, because the state
    /// before that instant is no longer described by the current configuration.
    @usableFromInline var takeover: Nanoseconds = .min
    /// Reconfigurations so far: a reservation made under an earlier configuration cannot be
    /// rolled back through a scale that has changed.
    @usableFromInline var epoch: UInt32 = 0

    /// A full bucket.
    public init(_ configuration: BucketConfiguration) {
        self.configuration = configuration
        gcra = GCRA(configuration)
        tat = GCRA.alwaysFull   // full since forever
    }

    public init(capacity: Double, refillPerSecond: Double) throws {
        self.init(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond))
    }

    // MARK: Taking tokens

    /// Takes `cost` tokens if they are there now and nobody is queued; never queues.
    ///
    /// - Returns: `true` when admitted (tokens taken), `false` when it would have to wait.
    /// - Throws: ``BucketError`` for a cost that is not finite and > 0, or above capacity.
    @inlinable
    public mutating func tryAcquire(_ cost: Double, at now: Nanoseconds) throws -> Bool {
        let c = try TokenUnits.cost(cost, capacityUnits: gcra.capacityUnits, capacity: configuration.capacity)
        return tryAcquire(units: c, at: now)
    }

    /// ``tryAcquire(_:at:)`` for a cost already validated and converted to nano-tokens.
    @inlinable
    public mutating func tryAcquire(units c: Int64, at now: Nanoseconds) -> Bool {
        let t = Swift.max(now, lastSeen)
        guard lastAdmit <= t, gcra.tryAcquire(&tat, units: c, at: t) else { return false }
        lastSeen = t
        reservedTotal &+= Int128(c)
        lastAdmit = t
        return true
    }

    /// Reserves `cost` tokens behind every earlier reservation and says when they are admitted.
    ///
    /// The tokens are committed at once: the reservation is a promise that the caller may act at
    /// `admitAt`. Use ``cancel(_:at:)`` to give it back before then.
    /// - Throws: ``BucketError`` for a cost that is not finite and > 0, or above capacity (which
    ///   would never be admitted).
    @inlinable
    public mutating func reserve(_ cost: Double, at now: Nanoseconds) throws -> Reservation {
        let c = try TokenUnits.cost(cost, capacityUnits: gcra.capacityUnits, capacity: configuration.capacity)
        return reserve(units: c, at: now)
    }

    /// ``reserve(_:at:)`` for a cost already validated and converted to nano-tokens.
    ///
    /// `notBefore` holds the admission back to at least that instant (used when another bucket,
    /// such as a parent, admits later): the tokens are then accounted as taken at that instant,
    /// so this bucket's own burst bound holds for the instants at which requests really act.
    @inlinable
    public mutating func reserve(units c: Int64, at now: Nanoseconds, notBefore: Nanoseconds = .min) -> Reservation {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        let floorBefore = lastAdmit
        // Held back by the FIFO floor (or `notBefore`), a reservation is accounted as taken at
        // that instant: requests the bucket could have admitted earlier must not all act
        // together there. The refill skipped over (`gap`) is remembered for an exact rollback.
        let start = Swift.max(t, notBefore, lastAdmit)
        let gap = Swift.max(0, gcra.scaled(start) - tat)
        let admit = gcra.reserve(&tat, units: c, at: t, notBefore: start)
        lastAdmit = admit
        reservedTotal &+= Int128(c)
        return Reservation(costUnits: c, requestedAt: t, admitAt: admit, reservedThrough: reservedTotal,
                           floorBefore: floorBefore, gap: gap, epoch: epoch)
    }

    /// When a reservation of `cost` made at `now` would be admitted, without making it.
    public func admissionTime(for cost: Double, at now: Nanoseconds) throws -> Nanoseconds {
        let c = try TokenUnits.cost(cost, capacityUnits: gcra.capacityUnits, capacity: configuration.capacity)
        return admissionTime(units: c, at: now)
    }

    /// ``admissionTime(for:at:)`` for a cost in nano-tokens; `notBefore` as in
    /// ``reserve(units:at:notBefore:)``.
    @inlinable
    public func admissionTime(units c: Int64, at now: Nanoseconds, notBefore: Nanoseconds = .min) -> Nanoseconds {
        let t = Swift.max(now, lastSeen)
        return gcra.admission(tat, units: c, at: t, notBefore: Swift.max(notBefore, lastAdmit))
    }

    /// The capacity in nano-tokens (the largest cost ``reserve(units:at:notBefore:)`` may take).
    public var capacityUnits: Int64 { gcra.capacityUnits }

    /// The latest time this state has seen; earlier times passed in are treated as this one.
    public var lastSeenTime: Nanoseconds { lastSeen }

    // MARK: Giving tokens back

    /// Gives back what a reservation took, as far as no later reservation depends on it.
    ///
    /// - If the reservation was admitted before `now`, nothing is given back: the tokens
    ///   were used (use ``refund(_:at:)`` to reconcile a real cost with an estimate).
    /// - If it is the latest reservation, all of its cost is given back, exactly, as if it had
    ///   never been made (its place in the FIFO order too).
    /// - Otherwise later reservations were promised admission times computed with this cost
    ///   already taken, and they keep those times. Giving back the full cost would let a new
    ///   request be admitted together with them, over the bucket's burst (this is the bug in
    ///   golang/go#69419, where the amount restored is estimated from a time difference). Here
    ///   the cost reserved after it is known exactly (a running total), and
    ///   `cost − cost reserved later` is given back when positive: every later promise stays
    ///   conforming.
    ///
    /// The reservation is zeroed, so cancelling it twice gives back nothing the second time.
    /// - Returns: the tokens given back.
    @discardableResult
    public mutating func cancel(_ reservation: inout Reservation, at now: Nanoseconds) -> Double {
        let t = Swift.max(now, lastSeen)
        defer { reservation.costUnits = 0 }
        guard reservation.costUnits > 0, reservation.admitAt >= t,
              reservation.reservedThrough <= reservedTotal else { return 0 }
        lastSeen = t
        let later = reservedTotal - reservation.reservedThrough
        let back = Int128(reservation.costUnits) - later
        guard back > 0 else { return 0 }
        if later == 0 {
            // The tail: roll back completely, so the reservation before becomes the tail and
            // the FIFO floor is the one before this reservation was made.
            reservedTotal -= Int128(reservation.costUnits)
            lastAdmit = Swift.max(reservation.floorBefore, takeover)
            if reservation.epoch == epoch { tat -= reservation.gap }
        }
        tat -= back * Int128(gcra.q)
        return TokenUnits.tokens(Int64(back))
    }

    /// Rolls back the latest reservation exactly, as if it had never been made, whatever the
    /// time (for an owner that knows it never acted, such as a cancelled waiter). Returns
    /// `false`, changing nothing, when it is not the latest or was already given back.
    @usableFromInline
    mutating func rollBackTail(_ reservation: inout Reservation) -> Bool {
        guard reservation.costUnits > 0, reservation.reservedThrough == reservedTotal else { return false }
        reservedTotal -= Int128(reservation.costUnits)
        lastAdmit = Swift.max(reservation.floorBefore, takeover)
        if reservation.epoch == epoch { tat -= reservation.gap }
        tat -= Int128(reservation.costUnits) * Int128(gcra.q)
        reservation.costUnits = 0
        return true
    }

    /// Whether `reservation` is the latest one, not yet given back (so it can be rolled back).
    func isTail(_ reservation: Reservation) -> Bool {
        reservation.costUnits > 0 && reservation.reservedThrough == reservedTotal
    }

    /// Adds `tokens` back to the bucket now (capped at capacity), for a request that used less
    /// than it took. The reverse, charging more, is ``charge(_:at:)``.
    public mutating func refund(_ tokens: Double, at now: Nanoseconds) throws {
        guard tokens.isFinite, tokens >= 0 else {
            throw BucketError.invalidParameter(name: "refund", value: tokens, requirement: "a finite number >= 0")
        }
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        gcra.refund(&tat, units: TokenUnits.units(tokens), at: t)
    }

    /// Takes `tokens` now even if that leaves the bucket in debt: a request that used more than
    /// it reserved. Later reservations wait for the debt to refill. Any amount is accepted.
    public mutating func charge(_ tokens: Double, at now: Nanoseconds) throws {
        guard tokens.isFinite, tokens >= 0 else {
            throw BucketError.invalidParameter(name: "charge", value: tokens, requirement: "a finite number >= 0")
        }
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        gcra.charge(&tat, units: TokenUnits.units(tokens), at: t)
    }

    // MARK: Reconfiguration

    /// Changes capacity and refill at `now`.
    ///
    /// - Stored tokens: with nothing promised ahead, the level at `now` is kept, capped at the
    ///   new capacity.
    /// - Reservations already handed out keep their admission instants, and no later
    ///   reservation is admitted before them (first come, first served survives the change).
    ///   They are paid for at the rate in effect when they were made: the new configuration
    ///   takes over at the latest promised instant, with the level the bucket has then (capped).
    ///   (Converting their debt at the new rate instead would, across a fast → slow → fast
    ///   sequence of changes, turn waiting time into token debt and back at different rates,
    ///   ratcheting the queue further out at every cycle.)
    /// - Callers that own their waiters (the async ``Bucket``) cancel and re-reserve them to
    ///   re-plan them at the new rate.
    public mutating func reconfigure(_ configuration: BucketConfiguration, at now: Nanoseconds) {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        let new = GCRA(configuration)
        takeover = Swift.max(t, lastAdmit)
        epoch &+= 1
        tat = gcra.converted(tat, at: takeover, to: new)
        gcra = new
        self.configuration = configuration
    }

    public mutating func reconfigure(capacity: Double, refillPerSecond: Double, at now: Nanoseconds) throws {
        reconfigure(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond), at: now)
    }

    // MARK: Read-outs

    /// Tokens in the bucket at `now`; negative when reservations are promised ahead of refill
    /// (the deficit the queue is waiting on).
    public func balance(at now: Nanoseconds) -> Double {
        gcra.balance(tat, at: Swift.max(now, lastSeen))
    }

    /// Tokens available to take at `now` (never negative, never above capacity).
    public func tokens(at now: Nanoseconds) -> Double { Swift.max(0, balance(at: now)) }

    /// Cost promised to reservations that refill has not yet covered at `now`: the depth of
    /// the queue in tokens, as far as the bucket itself can tell (see ``Bucket/snapshot()`` for
    /// the exact queue of an async bucket).
    public func deficit(at now: Nanoseconds) -> Double { Swift.max(0, -balance(at: now)) }

    /// The first instant at which a new reservation of `cost` could be admitted.
    public func nextAdmission(for cost: Double = 1, at now: Nanoseconds) throws -> Nanoseconds {
        try admissionTime(for: cost, at: now)
    }

    /// When the bucket will be full again if nothing more is taken (`now` if it already is).
    public func fullAt(_ now: Nanoseconds) -> Nanoseconds {
        let t = Swift.max(now, lastSeen)
        return Swift.max(t, gcra.fullAt(tat))
    }

    /// Whether the bucket is full at `now` with no reservation pending: such a bucket is
    /// indistinguishable from a new one (what keyed eviction relies on).
    public func isFullAndIdle(at now: Nanoseconds) -> Bool {
        let t = Swift.max(now, lastSeen)
        return gcra.isFull(tat, at: t) && lastAdmit <= t
    }
}

/// A promise from ``BucketState/reserve(_:at:)``: act at ``admitAt``, or cancel before then.
///
/// ```swift
/// var r = try bucket.reserve(5, at: now)
/// if r.wait > 2 * 1_000_000_000 { bucket.cancel(&r, at: now) }   // too long: give it back
/// ```
public struct Reservation: Hashable, Sendable {
    /// The cost in nano-tokens; zero once cancelled.
    public internal(set) var costUnits: Int64
    /// When it was asked for.
    public let requestedAt: Nanoseconds
    /// When the tokens are there: the caller may act from this instant.
    public let admitAt: Nanoseconds
    /// Running total of cost reserved up to and including this one.
    @usableFromInline let reservedThrough: Int128
    /// The bucket's FIFO floor before this reservation, restored when it is cancelled as the tail.
    @usableFromInline let floorBefore: Nanoseconds
    /// Refill skipped when the reservation was accounted at a later instant than its request
    /// (scaled units of the configuration of `epoch`), given back with it as the tail.
    @usableFromInline let gap: Int128
    @usableFromInline let epoch: UInt32

    @usableFromInline
    init(costUnits: Int64, requestedAt: Nanoseconds, admitAt: Nanoseconds, reservedThrough: Int128,
         floorBefore: Nanoseconds, gap: Int128 = 0, epoch: UInt32 = 0) {
        self.costUnits = costUnits
        self.requestedAt = requestedAt
        self.admitAt = admitAt
        self.reservedThrough = reservedThrough
        self.floorBefore = floorBefore
        self.gap = gap
        self.epoch = epoch
    }

    /// The cost in tokens (zero once cancelled).
    public var cost: Double { TokenUnits.tokens(costUnits) }
    /// How long the caller waits: `admitAt − requestedAt`.
    public var wait: Nanoseconds { admitAt - requestedAt }
    /// Whether it is admitted without waiting.
    public var isImmediate: Bool { admitAt == requestedAt }
}

extension BucketState {
    /// Validates `cost` against this bucket and converts it to nano-tokens.
    @usableFromInline
    func units(for cost: Double) throws -> Int64 {
        try TokenUnits.cost(cost, capacityUnits: gcra.capacityUnits, capacity: configuration.capacity)
    }
}
