import Fleet

/// Which bucket rows fold under which: tenants over their users under hierarchical keying,
/// client groups (`quiet`, `noisy`, …) over their keys under per-user and per-tenant keying.
///
/// The snapshot does not say which user belongs to which tenant, so the tree is derived the way
/// `Sources/Fleet` names keys: under hierarchical keying the parents are `tenant:<name>` (or one
/// `global`), users are `<client>` or `<client>-<n>`, and a client's tenant defaults to the
/// client's name. A scenario that names tenants explicitly is mapped exactly through
/// `tenantOfUser` (see `DashboardState.tenants(of:)`); otherwise a user goes under the only
/// parent whose users share its client group (a parent's `group` is its users' group when they
/// all have one). Users that none of these places stay at the top.
public enum KeyTree {
    /// One foldable parent and what folds under it.
    public struct Branch: Sendable, Equatable {
        public var id: RowID
        /// The parent's own bucket (tenant parents), nil for a client group, which is no bucket.
        public var bucket: Int?
        /// Indices into `FleetSnapshot.keys`.
        public var children: [Int]
    }

    /// The branches and the keys that stand alone, in snapshot order.
    public static func branches(_ snapshot: FleetSnapshot, tenantOfUser: [String: String]) -> (branches: [Branch], loose: [Int]) {
        let keys = snapshot.keys
        switch snapshot.keying {
        case .hierarchical:
            var parentIndex: [String: Int] = [:] // parent key name → branch index
            var branches: [Branch] = []
            for (i, k) in keys.enumerated() where k.key.hasPrefix("tenant:") || k.key == "global" {
                parentIndex[k.key] = branches.count
                branches.append(Branch(id: .key(k.key), bucket: i, children: []))
            }
            guard !branches.isEmpty else { return ([], Array(keys.indices)) }
            let global = parentIndex["global"]
            // Last resort: the one parent whose users are all of the same client group as this key.
            var parentOfGroup: [String: Int?] = [:]
            for (b, branch) in branches.enumerated() {
                let group = keys[branch.bucket!].group
                parentOfGroup[group] = parentOfGroup[group] == nil ? b : .some(nil)
            }
            var loose: [Int] = []
            for (i, k) in keys.enumerated() where parentIndex[k.key] == nil {
                if let b = global ?? tenants(of: k.key, tenantOfUser).lazy.compactMap({ parentIndex["tenant:" + $0] }).first
                    ?? parentOfGroup[k.group] ?? nil {
                    branches[b].children.append(i)
                } else {
                    loose.append(i)
                }
            }
            return (branches, loose)
        case .perUser, .perTenant:
            var order: [String: Int] = [:]
            var branches: [Branch] = []
            for (i, k) in keys.enumerated() {
                if let b = order[k.group] { branches[b].children.append(i); continue }
                order[k.group] = branches.count
                branches.append(Branch(id: .group(k.group), bucket: nil, children: [i]))
            }
            // One group is no grouping at all.
            return branches.count >= 2 ? (branches, []) : ([], Array(keys.indices))
        case .shared:
            return ([], Array(keys.indices))
        }
    }

    /// Where a user key's tenant may be, most certain first: the scenario's map; else the key
    /// itself (a single client is its own tenant), then the key without its `-<n>` replica
    /// suffix (`app-17` → `app`). The caller takes the first that names an existing parent.
    static func tenants(of user: String, _ map: [String: String]) -> [String] {
        if let t = map[user] { return [t] }
        // Strip ASCII digits, then one "-", on the UTF-8 bytes (cheap for 10,000 keys).
        let bytes = user.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, case let b = bytes[bytes.index(before: end)], b >= 0x30, b <= 0x39 { end = bytes.index(before: end) }
        guard end < bytes.endIndex, end > bytes.startIndex, bytes[bytes.index(before: end)] == 0x2D else { return [user] }
        return [user, String(user[..<bytes.index(before: end)])]
    }
}
