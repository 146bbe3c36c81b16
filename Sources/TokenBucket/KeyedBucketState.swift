/// Token buckets by key (user, tenant, API key, IP...), optionally under parent buckets, as a
/// value whose every operation takes the time: the keyed counterpart of ``BucketState``, for the
/// simulator, replays and any caller that owns its own time and locking (``KeyedBuckets`` is
/// the thread-safe form on a clock).
///
/// ```swift
/// var users = try KeyedBucketState<String>(capacity: 10, refillPerSecond: 1,
///                                          parent: BucketConfiguration(capacity: 50, refillPerSecond: 20))
/// try users.tryAcquire(2, for: "alice", parent: "acme", at: 0)      // true: both buckets had 2
/// users.setOverride(try BucketConfiguration(capacity: 100, refillPerSecond: 10), for: "vip", at: 0)
/// let r = try users.reserve(10, for: "alice", parent: "acme", at: 0) // queued: when both can admit
/// users.evictIdle(at: 3_600 * 1_000_000_000)                         // full keys are dropped
/// ```
///
/// ## Keys, parents, overrides
/// Every key starts as a full bucket on the default configuration; ``setOverride(_:for:at:)``
/// gives a key its own, at any time. A request may name a parent key (a tenant, or one constant
/// key for a global bucket): it is admitted only when both its own bucket and the parent's
/// admit, all or nothing. ``tryAcquire(_:for:parent:at:)`` takes from both or from neither;
/// ``reserve(_:for:parent:at:)`` admits at the first instant both can, and takes from each as of
/// that instant, so each bucket's burst bound holds for the instants requests really act.
///
/// ## Memory and eviction
/// Each key held costs one table entry: the key beside a 16-byte state (the scaled theoretical
/// full time, the same arithmetic as ``BucketState``), 32 bytes for a short `String` key, in a
/// table kept at most 80 % full (about 67 bytes per key with a million keys). Configurations
/// are shared; overrides live in a side table. A key is dropped only when its
/// bucket is full and nothing is promised on it, which is exactly when it cannot be told from a
/// new one: eviction loses nothing. Sweeps run on their own when the table doubles (amortized
/// O(1) per new key) or on demand with ``evictIdle(at:)``; a stream of ever-new keys therefore
/// holds memory for the keys that are not yet full again, not for every key ever seen.
///
/// ## Reconfiguration
/// Changing the default or a key's configuration keeps each bucket's level (capped at the new
/// capacity) and keeps reservations already handed out first: nothing new is admitted before
/// the latest promise made on that key.
///
/// - Complexity: ``tryAcquire(_:for:parent:at:)`` and ``reserve(_:for:parent:at:)`` are O(1)
///   expected (one hash lookup per level; two for a key not yet held when overrides exist).
public struct KeyedBucketState<Key: Hashable & Sendable>: Sendable {
    @usableFromInline var children: SlotTable<Key>
    @usableFromInline var parents: SlotTable<Key>?
    /// The latest time seen: time never runs backwards inside the state.
    @usableFromInline var lastSeen: Nanoseconds = .min

    /// Buckets on `configuration`; with `parent`, requests may also name a parent key whose
    /// bucket has that configuration.
    public init(_ configuration: BucketConfiguration, parent: BucketConfiguration? = nil) {
        children = SlotTable(configuration)
        parents = parent.map { SlotTable($0) }
    }

    /// Buckets of `capacity` tokens refilled at `refillPerSecond`, optionally under parents.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a capacity or
    ///   refill that is not finite and > 0.
    public init(capacity: Double, refillPerSecond: Double, parent: BucketConfiguration? = nil) throws {
        self.init(try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond), parent: parent)
    }

    // MARK: Taking tokens

    /// Takes `cost` from the key's bucket (and its parent's, if named) if both have it now and
    /// nothing is queued on either; otherwise takes nothing from either.
    ///
    /// - Returns: `true` when admitted.
    /// - Throws: ``BucketError`` for a cost that is not finite and > 0, above the key's or the
    ///   parent's capacity, or a parent key without a parent configuration.
    @inlinable
    public mutating func tryAcquire(_ cost: Double, for key: Key, parent: Key? = nil, at now: Nanoseconds) throws -> Bool {
        let c = try KeyedBucketState.units(cost)
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        guard let parent else {
            return try children.withSlot(key, at: t) { tat, g in
                try KeyedBucketState.check(c, cost: cost, g)
                return g.tryAcquire(&tat, units: c, at: t)
            }
        }
        let p = try parentSlot(parent)
        try KeyedBucketState.check(c, cost: cost, p.gcra)
        let (childTat, childGCRA) = children.slot(key)
        try KeyedBucketState.check(c, cost: cost, childGCRA)
        // All or nothing: check both before taking from either.
        guard p.gcra.canAcquire(p.tat, units: c, at: t), childGCRA.canAcquire(childTat, units: c, at: t) else { return false }
        children.withSlot(key, at: t) { tat, g in _ = g.tryAcquire(&tat, units: c, at: t) }
        parents!.withSlot(parent, at: t) { tat, g in _ = g.tryAcquire(&tat, units: c, at: t) }
        return true
    }

    /// ``tryAcquire(_:for:parent:at:)`` that also returns the tokens the key's bucket holds
    /// afterwards (one lookup of the key for both), or nil when refused (nothing taken).
    @inlinable
    public mutating func tryTake(_ cost: Double, for key: Key, parent: Key? = nil, at now: Nanoseconds) throws -> Double? {
        guard parent == nil else {
            let t = Swift.max(now, lastSeen)
            guard try tryAcquire(cost, for: key, parent: parent, at: t) else { return nil }
            return tokens(for: key, at: t)
        }
        let c = try KeyedBucketState.units(cost)
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        return try children.withSlot(key, at: t) { tat, g -> Double? in
            try KeyedBucketState.check(c, cost: cost, g)
            guard g.tryAcquire(&tat, units: c, at: t) else { return nil }
            return Swift.max(0, g.balance(tat, at: t))
        }
    }

    /// Reserves `cost` on the key's bucket (and its parent's) behind everything reserved
    /// there before, admitted at the first instant both can admit it.
    ///
    /// - Returns: the reservation; act at its `admitAt`, or ``cancel(_:at:)`` it before then.
    /// - Throws: as ``tryAcquire(_:for:parent:at:)``.
    // Pre-specialized for `String` keys (the common case: API keys, user names), so a caller in
    // another module does not pay for generic metadata lookups on every call.
    @_specialize(exported: true, where Key == String)
    public mutating func reserve(_ cost: Double, for key: Key, parent: Key? = nil, at now: Nanoseconds) throws -> KeyedReservation<Key> {
        let c = try KeyedBucketState.units(cost)
        try checkCapacities(c, cost: cost, key: key, parent: parent)
        return reserve(units: c, for: key, parent: parent, at: now, notBefore: .min)
    }

    /// ``reserve(_:for:parent:at:)`` for a cost already checked, admitted no earlier than
    /// `notBefore` (the waiting engine's FIFO floor).
    mutating func reserve(units c: Int64, for key: Key, parent: Key?, at now: Nanoseconds,
                          notBefore: Nanoseconds) -> KeyedReservation<Key> {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        let child = children.slot(key)
        let admit = admissionTime(units: c, key: key, parent: parent, at: t, notBefore: notBefore)
        var parentBefore: Int128?
        var parentAfter: Int128?
        if let parent {
            parentBefore = parents!.slot(parent).tat
            parentAfter = parents!.withSlot(parent, at: t) { tat, g in
                _ = g.reserve(&tat, units: c, at: t, notBefore: admit)
                return tat
            }
        }
        let childAfter = children.withSlot(key, at: t) { tat, g in
            _ = g.reserve(&tat, units: c, at: t, notBefore: admit)
            return tat
        }
        return KeyedReservation(key: key, parent: parent, costUnits: c, requestedAt: t, admitAt: admit,
                                childBefore: child.tat, childAfter: childAfter,
                                parentBefore: parentBefore, parentAfter: parentAfter)
    }

    /// When a reservation of `cost` on `key` (and `parent`) made at `now` would be admitted.
    public func admissionTime(for cost: Double, key: Key, parent: Key? = nil, at now: Nanoseconds) throws -> Nanoseconds {
        let c = try KeyedBucketState.units(cost)
        try checkCapacities(c, cost: cost, key: key, parent: parent)
        return admissionTime(units: c, key: key, parent: parent, at: now, notBefore: .min)
    }

    func admissionTime(units c: Int64, key: Key, parent: Key?, at now: Nanoseconds, notBefore: Nanoseconds) -> Nanoseconds {
        let t = Swift.max(now, lastSeen)
        let child = children.slot(key)
        var admit = child.gcra.admission(child.tat, units: c, at: t, notBefore: notBefore)
        if let parent, let p = parents?.slot(parent) {
            admit = Swift.max(admit, p.gcra.admission(p.tat, units: c, at: t, notBefore: notBefore))
        }
        return admit
    }

    /// Throws when `c` exceeds the key's capacity or the parent's (or a parent is named
    /// without a parent configuration).
    func checkCapacities(_ c: Int64, cost: Double, key: Key, parent: Key?) throws {
        try KeyedBucketState.check(c, cost: cost, children.slot(key).gcra)
        if let parent { try KeyedBucketState.check(c, cost: cost, try parentSlot(parent).gcra) }
    }

    // MARK: Giving tokens back

    /// Gives a reservation back if nothing was reserved on its buckets after it and it is not
    /// yet admitted: then the buckets return exactly to where they were before it. Otherwise
    /// nothing is given back (later promises were computed with its cost taken; keeping them
    /// conforming needs the exact FIFO bookkeeping of ``BucketState``, which the compact keyed
    /// form does not store). The reservation is zeroed either way.
    ///
    /// - Returns: the tokens given back (its cost, or 0).
    @discardableResult
    public mutating func cancel(_ reservation: inout KeyedReservation<Key>, at now: Nanoseconds) -> Double {
        let t = Swift.max(now, lastSeen)
        defer { reservation.costUnits = 0 }
        guard reservation.admitAt > t else { return 0 }
        let units = reservation.costUnits
        guard rollBackTail(&reservation) else { return 0 }
        lastSeen = t
        return TokenUnits.tokens(units)
    }

    /// Rolls a reservation back exactly, as if it had never been made, whatever the time,
    /// when nothing was reserved on its buckets after it; otherwise changes nothing and
    /// returns false.
    mutating func rollBackTail(_ reservation: inout KeyedReservation<Key>) -> Bool {
        guard reservation.costUnits > 0, children.slot(reservation.key).tat == reservation.childAfter else { return false }
        if let parent = reservation.parent {
            guard let parents, parents.slot(parent).tat == reservation.parentAfter else { return false }
            self.parents!.withSlot(parent, at: lastSeen) { tat, _ in tat = reservation.parentBefore! }
        }
        children.withSlot(reservation.key, at: lastSeen) { tat, _ in tat = reservation.childBefore }
        reservation.costUnits = 0
        return true
    }

    /// Adds `tokens` back to the key's bucket (and the parent's) now, capped at capacity: a
    /// request used less than it took.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0.
    @_specialize(exported: true, where Key == String)
    public mutating func refund(_ tokens: Double, for key: Key, parent: Key? = nil, at now: Nanoseconds) throws {
        _ = try adjust(tokens, named: "refund", for: key, parent: parent, at: now) { tat, g, u, t in g.refund(&tat, units: u, at: t) }
    }

    /// Takes `tokens` from the key's bucket (and the parent's) now, even into debt: a request
    /// used more than it took.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` unless finite and >= 0.
    @_specialize(exported: true, where Key == String)
    public mutating func charge(_ tokens: Double, for key: Key, parent: Key? = nil, at now: Nanoseconds) throws {
        _ = try adjust(tokens, named: "charge", for: key, parent: parent, at: now) { tat, g, u, t in g.charge(&tat, units: u, at: t) }
    }

    /// Settles a reservation of `reserved` tokens that used `used`: ``refund(_:for:parent:at:)``
    /// of the difference or ``charge(_:for:parent:at:)`` of it.
    /// - Returns: the tokens the key's bucket holds afterwards (0 while in debt).
    @_specialize(exported: true, where Key == String)
    public mutating func settle(reserved: Double, used: Double, for key: Key, parent: Key? = nil, at now: Nanoseconds) throws -> Double {
        if used < reserved {
            return try adjust(reserved - used, named: "refund", for: key, parent: parent, at: now) { tat, g, u, t in
                g.refund(&tat, units: u, at: t)
            }
        }
        if used > reserved {
            return try adjust(used - reserved, named: "charge", for: key, parent: parent, at: now) { tat, g, u, t in
                g.charge(&tat, units: u, at: t)
            }
        }
        return tokens(for: key, at: now)
    }

    /// Applies `change` to the key's bucket and, when named, the parent's; returns the tokens
    /// the key's bucket holds afterwards.
    private mutating func adjust(_ tokens: Double, named name: String, for key: Key, parent: Key?, at now: Nanoseconds,
                                 _ change: (inout Int128, GCRA, Int64, Nanoseconds) -> Void) throws -> Double {
        guard tokens.isFinite, tokens >= 0 else {
            throw BucketError.invalidParameter(name: name, value: tokens, requirement: "a finite number >= 0")
        }
        let u = TokenUnits.units(tokens)
        let t = Swift.max(now, lastSeen)
        if let parent {
            _ = try parentSlot(parent)
            parents!.withSlot(parent, at: t) { tat, g in change(&tat, g, u, t) }
        }
        lastSeen = t
        return children.withSlot(key, at: t) { tat, g in
            change(&tat, g, u, t)
            return Swift.max(0, g.balance(tat, at: t))
        }
    }

    // MARK: Configuration

    /// The configuration of keys without an override.
    public var defaultConfiguration: BucketConfiguration { children.configuration }

    /// The configuration of parents without an override, if parents are enabled.
    public var parentConfiguration: BucketConfiguration? { parents?.configuration }

    /// The configuration `key` uses now.
    public func configuration(for key: Key) -> BucketConfiguration { children.configuration(for: key) }

    /// Changes the default configuration at `now` for every key without an override.
    /// - Complexity: O(keys held).
    public mutating func setDefaultConfiguration(_ configuration: BucketConfiguration, at now: Nanoseconds) {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        children.setConfiguration(configuration, at: t)
    }

    /// Enables parents with `configuration`, or changes it at `now` (`nil` disables them).
    public mutating func setParentConfiguration(_ configuration: BucketConfiguration?, at now: Nanoseconds) {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        guard let configuration else { parents = nil; return }
        if parents == nil { parents = SlotTable(configuration) } else { parents!.setConfiguration(configuration, at: t) }
    }

    /// Gives `key` its own configuration from `now` on (`nil` returns it to the default). Its
    /// level is kept (capped) and its outstanding promises stay first.
    public mutating func setOverride(_ configuration: BucketConfiguration?, for key: Key, at now: Nanoseconds) {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        children.setOverride(configuration, for: key, at: t)
    }

    /// ``setOverride(_:for:at:)`` for a parent key.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` when parents are
    ///   not enabled.
    public mutating func setParentOverride(_ configuration: BucketConfiguration?, for parent: Key, at now: Nanoseconds) throws {
        _ = try parentSlot(parent)
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        parents!.setOverride(configuration, for: parent, at: t)
    }

    /// Keys with their own configuration.
    public var overriddenKeys: [Key] { Array(children.overrides.keys) }

    // MARK: Read-outs

    /// Tokens the key's bucket holds at `now` (0 while it is in debt).
    @_specialize(exported: true, where Key == String)
    public func tokens(for key: Key, at now: Nanoseconds) -> Double { Swift.max(0, balance(for: key, at: now)) }

    /// The key's level at `now`, negative by what is promised ahead of refill.
    public func balance(for key: Key, at now: Nanoseconds) -> Double {
        let s = children.slot(key)
        return s.gcra.balance(s.tat, at: Swift.max(now, lastSeen))
    }

    /// Tokens the parent's bucket holds at `now` (nil when parents are not enabled).
    public func parentTokens(for parent: Key, at now: Nanoseconds) -> Double? {
        guard let s = parents?.slot(parent) else { return nil }
        return Swift.max(0, s.gcra.balance(s.tat, at: Swift.max(now, lastSeen)))
    }

    /// Whether the key's bucket is full with nothing promised at `now`: then it is not stored
    /// (or may be dropped) and behaves exactly as a new key.
    public func isFullAndIdle(_ key: Key, at now: Nanoseconds) -> Bool {
        let s = children.slot(key)
        return s.gcra.isFull(s.tat, at: Swift.max(now, lastSeen))
    }

    /// Keys whose state is held (not full, or overridden).
    public var count: Int { children.count }

    /// Parent keys whose state is held.
    public var parentCount: Int { parents?.count ?? 0 }

    /// The keys held now (not full, or overridden), in no particular order.
    public var heldKeys: [Key] { children.slots.keys + Array(children.overrides.keys) }

    /// Drops every key (and parent) whose bucket is full with nothing promised at `now`.
    /// Nothing observable changes: a dropped key behaves exactly as a new one.
    /// - Returns: how many keys and parents were dropped.
    /// - Complexity: O(keys held).
    @discardableResult
    public mutating func evictIdle(at now: Nanoseconds) -> Int {
        let t = Swift.max(now, lastSeen)
        lastSeen = t
        var dropped = children.evictFull(at: t)
        if parents != nil { dropped += parents!.evictFull(at: t) }
        return dropped
    }

    // MARK: Validation

    @inlinable
    static func units(_ cost: Double) throws -> Int64 {
        guard cost.isFinite, cost > 0 else {
            throw BucketError.invalidParameter(name: "cost", value: cost, requirement: cost.isNaN || cost.isInfinite ? "a finite number" : "> 0")
        }
        let u = TokenUnits.units(cost)
        guard u > 0 else { throw BucketError.invalidParameter(name: "cost", value: cost, requirement: "at least 1e-9") }
        return u
    }

    @inlinable
    static func check(_ c: Int64, cost: Double, _ g: GCRA) throws {
        guard c <= g.capacityUnits else { throw BucketError.costExceedsCapacity(cost: cost, capacity: g.capacity) }
    }

    @usableFromInline
    func parentSlot(_ parent: Key) throws -> (tat: Int128, gcra: GCRA) {
        guard let parents else {
            throw BucketError.invalidParameter(name: "parent key", value: .nan,
                                               requirement: "nil unless parents are configured (init(_:parent:) or setParentConfiguration)")
        }
        return parents.slot(parent)
    }
}

/// A promise from ``KeyedBucketState/reserve(_:for:parent:at:)``: act at ``admitAt``, or
/// cancel it before then.
///
/// ```swift
/// var r = try users.reserve(3, for: "alice", parent: "acme", at: now)
/// if r.wait > 2 * second { users.cancel(&r, at: now) }   // too long: give it back
/// ```
public struct KeyedReservation<Key: Hashable & Sendable>: Sendable, Hashable {
    public let key: Key
    public let parent: Key?
    /// The cost in nano-tokens; zero once cancelled.
    public internal(set) var costUnits: Int64
    public let requestedAt: Nanoseconds
    /// When both buckets admit it.
    public let admitAt: Nanoseconds
    let childBefore: Int128
    let childAfter: Int128
    let parentBefore: Int128?
    let parentAfter: Int128?

    /// The cost in tokens (zero once cancelled).
    public var cost: Double { TokenUnits.tokens(costUnits) }
    /// How long the caller waits.
    public var wait: Nanoseconds { admitAt - requestedAt }
}
