import Fleet
import Synchronization

/// What the table needs that depends only on which keys exist, remembered between frames: each
/// key's place in natural order and the tenant/group tree. Keys change only when keys come or go
/// (a keying switch), so the 10,000-name natural sort and the tree are built once per key set,
/// and each frame compares integers.
///
/// ```swift
/// let cache = NameRanks()
/// let r = cache.ranks(for: snapshot.keys)   // r[i]: position of keys[i].key in natural order
/// ```
public final class NameRanks: Sendable, Equatable {
    /// A cache is no part of a value: any two are equal.
    public static func == (a: NameRanks, b: NameRanks) -> Bool { true }

    struct Entry {
        var names: [String] = []
        var keying: Keying?
        var tenantOfUser: [String: String] = [:]
        var ranks: [Int] = []
        var tree: (branches: [KeyTree.Branch], loose: [Int])?
    }
    private let cache = Mutex<Entry>(Entry())

    public init() {}

    /// - Complexity: O(n) when the names are the ones of the last call, O(n log n) otherwise.
    public func ranks(for keys: [KeySnapshot]) -> [Int] {
        cache.withLock { entry in
            refresh(&entry, keys)
            return entry.ranks
        }
    }

    /// `KeyTree.branches`, rebuilt only when the keys, the keying or the tenant map change.
    func tree(_ snapshot: FleetSnapshot, tenantOfUser: [String: String]) -> (branches: [KeyTree.Branch], loose: [Int]) {
        cache.withLock { entry in
            refresh(&entry, snapshot.keys)
            if let tree = entry.tree, entry.keying == snapshot.keying, entry.tenantOfUser == tenantOfUser { return tree }
            let tree = KeyTree.branches(snapshot, tenantOfUser: tenantOfUser)
            entry.tree = tree
            entry.keying = snapshot.keying
            entry.tenantOfUser = tenantOfUser
            return tree
        }
    }

    private func refresh(_ entry: inout Entry, _ keys: [KeySnapshot]) {
        if entry.names.count == keys.count, zip(entry.names, keys).allSatisfy({ $0 == $1.key }) { return }
        entry = Entry(names: keys.map(\.key), ranks: NameRanks.compute(keys))
    }

    static func compute(_ keys: [KeySnapshot]) -> [Int] {
        let order = keys.indices.sorted { NaturalOrder.less(keys[$0].key, keys[$1].key) }
        var ranks = Array(repeating: 0, count: keys.count)
        for (rank, i) in order.enumerated() { ranks[i] = rank }
        return ranks
    }
}
