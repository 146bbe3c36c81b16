import Fleet

/// What a table row stands for: a bucket by its key, or a client group (not a bucket).
public enum RowID: Hashable, Sendable {
    case key(String)
    case group(String)

    public var name: String {
        switch self {
        case let .key(k): k
        case let .group(g): g
        }
    }
}

/// What a parent row shows for everything folded under it.
public struct ParentSummary: Sendable, Equatable {
    public var children: Int
    /// Requests waiting now: the children's waiters, plus the parent bucket's own.
    public var waiting: Int
    /// Admitted per second now: the group's throughput, or the parent bucket's admissions (every
    /// child's admission passes its parent).
    public var admittedPerSecond: Double
    /// The group's p99 wait, or the worst of the parent's and its children's p99 (ms).
    public var p99: Double
    public var expanded: Bool
}

/// One row of the bucket table.
public struct TableRow: Sendable, Equatable {
    public var id: RowID
    /// 0 at the top, 1 under a parent.
    public var depth: Int
    /// The bucket this row shows, an index into `FleetSnapshot.keys` (nil for a group row).
    public var keyIndex: Int?
    /// Set on rows that fold children.
    public var parent: ParentSummary?
}

/// The bucket table as rows: tree, filter, sort and folding applied. Built once per frame (and
/// once per key press) from the state and the snapshot.
///
/// ```swift
/// let model = TableModel(state, snapshot)
/// model.rows.map(\.id)   // [.group("quiet"), .key("user-1"), …, .group("noisy"), .key("noisy")]
/// ```
/// - Complexity: O(n log n) in the number of keys (the sort); the rows hold indices, not copies.
public struct TableModel: Sendable {
    public var rows: [TableRow]
    /// Keys the filter let through (all keys without a filter).
    public var matchedKeys: Int
    /// Children of each parent, for commands sent to a whole group.
    public var children: [RowID: [Int]]
    public var isTree: Bool

    /// Parents with more children than this start folded.
    public static let unfoldedUpTo = 16

    /// `ranks` remembers the keys' natural order and tree between frames (the run loop keeps one).
    public init(_ state: DashboardState, _ snapshot: FleetSnapshot, ranks: NameRanks? = nil) {
        let keys = snapshot.keys
        // Natural order and the tree: built once per key set, then reused.
        let layout = (ranks ?? NameRanks()).layout(snapshot)
        let rank = layout.ranks
        let (branches, loose) = state.tree ? layout.tree : ([], layout.order)
        isTree = !branches.isEmpty
        let needle = state.filter.lowercased()
        func matches(_ i: Int) -> Bool { needle.isEmpty || keys[i].key.lowercased().contains(needle) }
        let sort = state.sort
        /// `indices` (in natural order, as the tree and layout hold them) in the table's order.
        /// By name that is their order already; by a number, one value read per key, then a sort
        /// on numbers (ties A to Z whatever the direction).
        func ordered(_ indices: [Int]) -> [Int] {
            switch sort.column {
            case .key:
                return sort.descending ? Array(indices.reversed()) : indices
            case .group:
                // Stable on the natural order: by group, then by name.
                let groupOrder = indices.map { keys[$0].group }
                return indices.indices.sorted { a, b in
                    let c = NaturalOrder.compare(groupOrder[a], groupOrder[b])
                    if c != 0 { return sort.descending ? c > 0 : c < 0 }
                    return sort.descending ? a > b : a < b
                }.map { indices[$0] }
            default:
                let values = indices.map { TableSort.value(keys[$0], sort.column) }
                return indices.indices.sorted { a, b in
                    if values[a] != values[b] { return sort.descending ? values[a] > values[b] : values[a] < values[b] }
                    return rank[indices[a]] < rank[indices[b]]
                }.map { indices[$0] }
            }
        }
        var rows: [TableRow] = []
        var matched = 0
        var children: [RowID: [Int]] = [:]
        let groups = Dictionary(snapshot.groups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        struct Parent { var row: TableRow; var shown: [Int]; var value: Double; var order: Int }
        var parents: [Parent] = []
        for (order, branch) in branches.enumerated() {
            children[branch.id] = branch.children
            let parentMatches = branch.bucket.map(matches) ?? (needle.isEmpty || branch.id.name.lowercased().contains(needle))
            let shown = parentMatches ? branch.children : branch.children.filter(matches)
            guard parentMatches || !shown.isEmpty else { continue }
            matched += shown.count + (branch.bucket != nil && parentMatches ? 1 : 0)
            let summary = Self.summary(branch, keys, groups)
            let expanded = !needle.isEmpty || (state.expanded[branch.id] ?? (branch.children.count <= Self.unfoldedUpTo))
            var s = summary
            s.expanded = expanded
            let value: Double = switch sort.column {
            case .queue: Double(s.waiting)
            case .admitted: s.admittedPerSecond
            case .p99: s.p99
            case .key, .group: 0
            default: branch.bucket.map { TableSort.value(keys[$0], sort.column) } ?? 0
            }
            parents.append(Parent(row: TableRow(id: branch.id, depth: 0, keyIndex: branch.bucket, parent: s), shown: shown, value: value, order: order))
        }
        let byNumber = sort.column != .key && sort.column != .group
        // Parents by their aggregate; by name they keep the scenario's order (quiet before noisy,
        // tenants as listed), reversed for a descending sort.
        parents.sort { a, b in
            if byNumber, a.value != b.value { return sort.descending ? a.value > b.value : a.value < b.value }
            return byNumber || !sort.descending ? a.order < b.order : a.order > b.order
        }
        for p in parents {
            rows.append(p.row)
            guard p.row.parent!.expanded else { continue }
            for i in ordered(p.shown) {
                rows.append(TableRow(id: .key(keys[i].key), depth: 1, keyIndex: i, parent: nil))
            }
        }
        let alone = needle.isEmpty ? loose : loose.filter(matches)
        matched += alone.count
        rows.reserveCapacity(rows.count + alone.count)
        for i in ordered(alone) {
            rows.append(TableRow(id: .key(keys[i].key), depth: 0, keyIndex: i, parent: nil))
        }
        self.rows = rows
        self.matchedKeys = matched
        self.children = children
    }

    static func summary(_ branch: KeyTree.Branch, _ keys: [KeySnapshot], _ groups: [String: GroupSnapshot]) -> ParentSummary {
        var waiting = 0, p99 = 0.0, admitted = 0.0
        for i in branch.children {
            waiting += keys[i].waiters
            p99 = max(p99, keys[i].waitMs.p99)
            admitted += keys[i].admittedPerSecond.last ?? 0
        }
        if let b = branch.bucket {
            let parent = keys[b]
            waiting += parent.waiters
            p99 = max(p99, parent.waitMs.p99)
            // Children past the charted ones have no series; the parent sees every admission.
            admitted = parent.admittedPerSecond.last ?? admitted
        } else if case let .group(name) = branch.id, let group = groups[name] {
            p99 = group.waitMs.p99
            admitted = group.throughput
        }
        return ParentSummary(children: branch.children.count, waiting: waiting, admittedPerSecond: admitted, p99: p99, expanded: true)
    }

    /// Row index of `id`, nil when it is not shown (filtered out, folded, or gone).
    /// - Complexity: O(rows).
    public func index(of id: RowID?) -> Int? {
        guard let id else { return nil }
        return rows.firstIndex { $0.id == id }
    }
}
