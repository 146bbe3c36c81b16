import Fleet

/// Which bucket rows fold under which: each key under the parent bucket the fleet names in
/// `KeySnapshot.parent` (users under their tenant's bucket, or under `global`, in hierarchical
/// keying); without parents, keys under their client group (`quiet`, `noisy`, …) when there
/// are two groups or more. Shared keying (one bucket) is no tree.
///
/// Children and loose keys come in natural order (`app-2` before `app-10`), so a table sorted
/// by name needs no sort per frame.
public enum KeyTree {
    /// One foldable parent and what folds under it.
    public struct Branch: Sendable, Equatable {
        public var id: RowID
        /// The parent's own bucket (tenant parents), nil for a client group, which is no bucket.
        public var bucket: Int?
        /// Indices into `FleetSnapshot.keys`, in natural order of their names.
        public var children: [Int]
    }

    /// The branches (parents in snapshot order: tenants and groups as the scenario lists them)
    /// and the keys that stand alone. `order`: every key index in natural order of its name.
    public static func branches(_ snapshot: FleetSnapshot, order: [Int]) -> (branches: [Branch], loose: [Int]) {
        let keys = snapshot.keys
        var parentIndex: [String: Int] = [:] // parent key name → branch index
        for k in keys { if let p = k.parent { parentIndex[p] = -1 } }
        if !parentIndex.isEmpty {
            var branches: [Branch] = []
            for (i, k) in keys.enumerated() where parentIndex[k.key] != nil {
                parentIndex[k.key] = branches.count
                branches.append(Branch(id: .key(k.key), bucket: i, children: []))
            }
            var loose: [Int] = []
            for i in order where parentIndex[keys[i].key] == nil {
                // A parent the snapshot does not hold leaves its children at the top.
                if let p = keys[i].parent, let b = parentIndex[p], b >= 0 {
                    branches[b].children.append(i)
                } else {
                    loose.append(i)
                }
            }
            return (branches, loose)
        }
        guard snapshot.keying != .shared else { return ([], order) }
        var groupIndex: [String: Int] = [:]
        var branches: [Branch] = []
        for k in keys where groupIndex[k.group] == nil {
            groupIndex[k.group] = branches.count
            branches.append(Branch(id: .group(k.group), bucket: nil, children: []))
        }
        // One group is no grouping at all.
        guard branches.count >= 2 else { return ([], order) }
        for i in order { branches[groupIndex[keys[i].group]!].children.append(i) }
        return (branches, [])
    }
}
