import Fleet
import Synchronization

/// What the table needs that depends only on which keys exist, remembered between frames: each
/// key's place in natural order, the keys in that order, and the tenant/group tree. Keys change
/// only when keys come or go (a keying switch), so the 10,000-name natural sort and the tree are
/// built once per key set, and each frame compares names and integers.
///
/// ```swift
/// let cache = NameRanks()
/// let layout = cache.layout(snapshot)   // layout.ranks[i]: place of keys[i].key in natural order
/// ```
public final class NameRanks: Sendable, Equatable {
    /// A cache is no part of a value: any two are equal.
    public static func == (a: NameRanks, b: NameRanks) -> Bool { true }

    /// The key set's order and tree.
    struct Layout {
        /// `ranks[i]`: position of `keys[i]` in natural order.
        var ranks: [Int] = []
        /// Key indices in natural order (the inverse of `ranks`).
        var order: [Int] = []
        var tree: (branches: [KeyTree.Branch], loose: [Int]) = ([], [])
    }

    struct Entry {
        var names: [String] = []
        var parents: [String?] = []
        var keying: Keying?
        var layout = Layout()
    }
    private let cache = Mutex<Entry>(Entry())

    public init() {}

    /// Ranks, order and `KeyTree.branches`, rebuilt only when the keys, their parents or the
    /// keying change (one check per frame).
    /// - Complexity: O(n) when the keys are the ones of the last call, O(n log n) otherwise.
    func layout(_ snapshot: FleetSnapshot) -> Layout {
        cache.withLock { entry in
            let keys = snapshot.keys
            if entry.keying == snapshot.keying, entry.names.count == keys.count, Self.same(entry, keys) {
                return entry.layout
            }
            let order = keys.indices.sorted { NaturalOrder.less(keys[$0].key, keys[$1].key) }
            var ranks = Array(repeating: 0, count: keys.count)
            for (rank, i) in order.enumerated() { ranks[i] = rank }
            entry = Entry(names: keys.map(\.key), parents: keys.map(\.parent), keying: snapshot.keying,
                          layout: Layout(ranks: ranks, order: order, tree: KeyTree.branches(snapshot, order: order)))
            return entry.layout
        }
    }

    /// Whether `keys` are the entry's, names and parents, in the same order. By index, reading
    /// the two fields in place: a `zip` would copy every `KeySnapshot` (its arrays retained and
    /// released), which at 10,000 keys cost more than the rest of the table.
    private static func same(_ entry: Entry, _ keys: [KeySnapshot]) -> Bool {
        for i in keys.indices where entry.names[i] != keys[i].key || entry.parents[i] != keys[i].parent { return false }
        return true
    }
}
