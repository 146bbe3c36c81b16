/// An open-addressing hash map from keys to 16-byte bucket states, each key stored next to
/// its state: one memory access finds both (a `Dictionary` keeps keys and values in separate
/// arrays, two accesses), and the table runs up to 80 % full (a `Dictionary` stops at 75 %).
///
/// Linear probing; deletion by backward shift (no tombstones); the hash is the key's own
/// `hashValue` (per-process seeded SipHash), so adversarial keys cannot force collisions.
///
/// ```swift
/// var map = SlotMap<String>()
/// map.insertNew("alice", 42)
/// map.index(forKey: "alice").map { map.entries[$0].tat }   // 42
/// ```
///
/// - Complexity: lookup and insertion O(1) expected; ``retain(where:)`` O(capacity).
@usableFromInline
struct SlotMap<Key: Hashable & Sendable>: Sendable {
    @usableFromInline
    struct Entry: Sendable {
        /// `nil` marks an empty slot.
        @usableFromInline var key: Key?
        @usableFromInline var tat: Int128

        @inlinable init(key: Key?, tat: Int128) {
            self.key = key
            self.tat = tat
        }
    }

    /// Power-of-two sized (or empty before the first insertion).
    @usableFromInline var entries: ContiguousArray<Entry> = []
    @usableFromInline var count = 0

    @inlinable init() {}

    /// The slot holding `key`, if any.
    @inlinable
    func index(forKey key: Key) -> Int? {
        guard !entries.isEmpty else { return nil }
        let mask = entries.count - 1
        var i = key.hashValue & mask
        return entries.withUnsafeBufferPointer { buffer -> Int? in
            while let k = buffer[i].key {
                if k == key { return i }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    @inlinable
    subscript(key: Key) -> Int128? {
        index(forKey: key).map { entries[$0].tat }
    }

    /// Inserts `key`, which must not be present.
    @inlinable
    mutating func insertNew(_ key: Key, _ tat: Int128) {
        if (count + 1) * 5 > entries.count * 4 { resize(to: SlotMap.capacity(for: count + 1)) }
        place(Entry(key: key, tat: tat))
        count += 1
    }

    /// Removes `key` if present, shifting later entries of its probe run back.
    @usableFromInline
    @_specialize(exported: true, where Key == String)
    mutating func removeValue(forKey key: Key) {
        guard var hole = index(forKey: key) else { return }
        let mask = entries.count - 1
        var j = (hole + 1) & mask
        while let k = entries[j].key {
            let home = k.hashValue & mask
            // Move entry j into the hole unless its home lies cyclically in (hole, j].
            let homeInRange = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if !homeInRange {
                entries[hole] = entries[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        entries[hole] = Entry(key: nil, tat: 0)
        count -= 1
    }

    /// Keeps the entries whose state satisfies `keep`, in a table sized for them (memory is
    /// given back when keys leave).
    @inlinable
    mutating func retain(where keep: (Int128) -> Bool) {
        let kept = entries.filter { $0.key != nil && keep($0.tat) }
        entries = []
        count = 0
        if !kept.isEmpty { resize(to: SlotMap.capacity(for: kept.count)) }
        for e in kept { place(e) }
        count = kept.count
    }

    /// Replaces every state with `transform(state)`.
    @usableFromInline
    @_specialize(exported: true, where Key == String)
    mutating func updateAll(_ transform: (Int128) -> Int128) {
        for i in entries.indices where entries[i].key != nil {
            entries[i].tat = transform(entries[i].tat)
        }
    }

    /// The keys present, in table order.
    @usableFromInline
    var keys: [Key] { entries.compactMap(\.key) }

    // MARK: Internals

    /// Smallest power of two holding `n` entries at most 80 % full (at least 16).
    @inlinable
    static func capacity(for n: Int) -> Int {
        var c = 16
        while n * 5 > c * 4 { c *= 2 }
        return c
    }

    // Inlinable with the insertion that calls it, so a client's String-keyed map is
    // specialized whole (an unspecialized resize costs a metadata lookup per entry moved).
    @inlinable
    mutating func resize(to capacity: Int) {
        let old = entries
        entries = ContiguousArray(repeating: Entry(key: nil, tat: 0), count: capacity)
        for e in old where e.key != nil { place(e) }
    }

    /// Puts `e` in the first free slot of its probe run (no duplicate check, no count).
    @inlinable
    mutating func place(_ e: Entry) {
        let mask = entries.count - 1
        var i = e.key!.hashValue & mask
        while entries[i].key != nil { i = (i + 1) & mask }
        entries[i] = e
    }
}
