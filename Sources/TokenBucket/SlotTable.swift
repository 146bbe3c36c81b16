/// One level of keyed buckets in compact form: a scaled `tat` (16 bytes) per key, the
/// configuration shared; keys with their own configuration live in a side table.
///
/// A key is in at most one of `slots` (default configuration) and `overrides`. A key in
/// neither is a full bucket on the default configuration; a full key on the default
/// configuration may be dropped from `slots` at any time without changing anything.
@usableFromInline
struct SlotTable<Key: Hashable & Sendable>: Sendable {
    @usableFromInline
    struct Override: Sendable {
        @usableFromInline var configuration: BucketConfiguration
        @usableFromInline var gcra: GCRA
        @usableFromInline var tat: Int128
    }

    @usableFromInline var configuration: BucketConfiguration
    @usableFromInline var gcra: GCRA
    @usableFromInline var slots = SlotMap<Key>()
    @usableFromInline var overrides: [Key: Override] = [:]
    /// When `slots` reaches this size, full slots are swept out (amortized O(1) per insert).
    @usableFromInline var sweepAt = SlotTable.minimumSweep

    @inlinable static var minimumSweep: Int { 1024 }

    @usableFromInline
    init(_ configuration: BucketConfiguration) {
        self.configuration = configuration
        self.gcra = GCRA(configuration)
    }

    /// Runs `body` on the key's state in place, with one hash lookup for a key that is held on
    /// the default configuration. A new key is stored only if `body` leaves it not full.
    @inlinable
    mutating func withSlot<R>(_ key: Key, at t: Nanoseconds, _ body: (inout Int128, GCRA) throws -> R) rethrows -> R {
        if !overrides.isEmpty, let i = overrides.index(forKey: key) {
            let g = overrides.values[i].gcra
            return try body(&overrides.values[i].tat, g)
        }
        if let i = slots.index(forKey: key) {
            return try body(&slots.entries[i].tat, gcra)
        }
        var tat = GCRA.alwaysFull
        let result = try body(&tat, gcra)
        if tat != GCRA.alwaysFull {
            slots.insertNew(key, tat)
            if slots.count >= sweepAt { evictFull(at: t) }
        }
        return result
    }

    /// The key's state and arithmetic, without changing anything.
    @inlinable
    func slot(_ key: Key) -> (tat: Int128, gcra: GCRA) {
        if !overrides.isEmpty, let o = overrides[key] { return (o.tat, o.gcra) }
        return (slots[key] ?? GCRA.alwaysFull, gcra)
    }

    @inlinable
    func configuration(for key: Key) -> BucketConfiguration {
        overrides[key]?.configuration ?? configuration
    }

    /// Drops every full slot on the default configuration (each equals an absent one). Keys
    /// with an override stay: they carry their configuration. Returns how many were dropped.
    @inlinable @discardableResult
    mutating func evictFull(at t: Nanoseconds) -> Int {
        let before = slots.count
        let g = gcra
        slots.retain { !g.isFull($0, at: t) }
        sweepAt = Swift.max(SlotTable.minimumSweep, slots.count * 2)
        return before - slots.count
    }

    /// Changes the default configuration: every held key keeps its level (capped) and its
    /// promises (nothing new is admitted before a reservation already handed out).
    /// - Complexity: O(keys held).
    mutating func setConfiguration(_ new: BucketConfiguration, at t: Nanoseconds) {
        let g = GCRA(new)
        let old = gcra
        slots.updateAll { old.convertedKeepingOrder($0, at: t, to: g) }
        configuration = new
        gcra = g
        _ = evictFull(at: t)
    }

    /// Gives `key` its own configuration (`nil` returns it to the default), converting its
    /// state as ``setConfiguration(_:at:)`` does.
    mutating func setOverride(_ new: BucketConfiguration?, for key: Key, at t: Nanoseconds) {
        let (tat, old) = slot(key)
        overrides[key] = nil
        slots.removeValue(forKey: key)
        if let new {
            let g = GCRA(new)
            overrides[key] = Override(configuration: new, gcra: g, tat: old.convertedKeepingOrder(tat, at: t, to: g))
        } else {
            let converted = old.convertedKeepingOrder(tat, at: t, to: gcra)
            if !gcra.isFull(converted, at: t) { slots.insertNew(key, converted) }
        }
    }

    var count: Int { slots.count + overrides.count }
}
