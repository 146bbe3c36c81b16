import Fleet

/// The panes Tab moves between.
public enum Pane: String, Sendable, CaseIterable {
    case table, detail, isolation
    var next: Pane { Pane.allCases[(Pane.allCases.firstIndex(of: self)! + 1) % Pane.allCases.count] }
}

/// Table orders the sort key cycles through.
public enum SortOrder: String, Sendable, CaseIterable {
    case name, waiters, p99
    var next: SortOrder { SortOrder.allCases[(SortOrder.allCases.firstIndex(of: self)! + 1) % SortOrder.allCases.count] }

    /// Keys in this order: names ascending; waiters and p99 descending, ties by name.
    public func sorted(_ keys: [KeySnapshot]) -> [KeySnapshot] {
        switch self {
        case .name: return keys.sorted { $0.key < $1.key }
        case .waiters: return keys.sorted { ($0.waiters, $1.key) > ($1.waiters, $0.key) }
        case .p99: return keys.sorted { ($0.waitMs.p99, $1.key) > ($1.waitMs.p99, $0.key) }
        }
    }
}

/// Which parameter the input line sets.
public enum ValueField: String, Sendable {
    case capacity, refill
    var other: ValueField { self == .capacity ? .refill : .capacity }
}

/// The "type an exact value" line.
public struct InputLine: Sendable, Equatable {
    public var field: ValueField
    public var text: String
    /// Key it applies to, nil for every key.
    public var target: String?
    public var error: String?
}

/// The provider-preset picker.
public struct PresetPicker: Sendable, Equatable {
    public var names: [String]
    public var index: Int
}

/// What covers the main screen and takes the keys while it is open.
public enum Overlay: Sendable, Equatable {
    case help
    case input(InputLine)
    case picker(PresetPicker)
}

/// A one-line note in the status row (what a key did, or why it did nothing).
public struct StatusMessage: Sendable, Equatable {
    public var text: String
    public var isError: Bool
    public init(_ text: String, isError: Bool = false) { self.text = text; self.isError = isError }
}

/// Everything the dashboard remembers between frames. The fleet's own state lives in the driver;
/// this is only what the person at the keyboard chose.
public struct DashboardState: Sendable, Equatable {
    /// Speeds `<` and `>` step through.
    public static let speeds: [Double] = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

    public var mode: FleetMode
    /// Selected bucket by key name, so the selection survives re-sorting.
    public var selectedKey: String?
    /// First table row shown.
    public var scroll: Int = 0
    /// Table rows that fit on screen (set on resize), for scrolling.
    public var visibleRows: Int = 8
    public var focus: Pane = .table
    public var sort: SortOrder = .name
    public var applyToAll: Bool = false
    public var paused: Bool = false
    public var speed: Double = 1
    public var overlay: Overlay?
    public var message: StatusMessage?
    public var themeNames: [String]
    public var themeIndex: Int
    public var presetNames: [String]
    /// The fleet as it was when the last change was sent, to show what the change did.
    public var baseline: ChangeBaseline?
    public var quit: Bool = false
    /// The compare view (`c`) in place of the panes, nil when off (see `CompareFeed`).
    public var compare: CompareFeed?

    public init(mode: FleetMode = .simulated, speed: Double = 1, themeNames: [String] = ["default"],
                theme: String? = nil, presetNames: [String] = []) {
        self.mode = mode
        self.speed = mode == .live ? 1 : speed
        self.themeNames = themeNames
        self.themeIndex = theme.flatMap { themeNames.firstIndex(of: $0) } ?? 0
        self.presetNames = presetNames
    }

    public var themeName: String { themeNames.isEmpty ? "default" : themeNames[themeIndex % themeNames.count] }

    /// The table's rows in the current order.
    public func rows(_ snapshot: FleetSnapshot) -> [KeySnapshot] { sort.sorted(snapshot.keys) }

    /// Index of the selected key in `rows`, the first row when the key is gone (keying changed).
    public func selectedIndex(_ snapshot: FleetSnapshot) -> Int {
        let rows = rows(snapshot)
        return selectedKey.flatMap { k in rows.firstIndex { $0.key == k } } ?? 0
    }

    public func selected(_ snapshot: FleetSnapshot) -> KeySnapshot? {
        let rows = rows(snapshot)
        return rows.isEmpty ? nil : rows[min(selectedIndex(snapshot), rows.count - 1)]
    }
}

/// Numbers taken just before a change is sent, so the detail pane can show its effect
/// ("p99 1.8s → 0.4s, queue 99 → 12") next to the fleet's `ChangeNote`.
public struct ChangeBaseline: Sendable, Equatable {
    /// Simulated time of the snapshot the numbers come from.
    public var at: Int64
    /// The key changed, nil for a change to every key (keying, noisy load, preset, all keys).
    public var key: String?
    public var keyP99: Double?
    public var keyWaiters: Int?
    public var keyAdmittedPerSecond: Double?
    /// p99 wait (ms) of each group.
    public var groupP99: [String: Double]

    public init(_ snapshot: FleetSnapshot, key: String?) {
        at = snapshot.now
        self.key = key
        let k = key.flatMap { name in snapshot.keys.first { $0.key == name } }
        keyP99 = k?.waitMs.p99
        keyWaiters = k?.waiters
        keyAdmittedPerSecond = k?.admittedPerSecond.last
        groupP99 = Dictionary(snapshot.groups.map { ($0.name, $0.waitMs.p99) }, uniquingKeysWith: { a, _ in a })
    }

    /// "p99 1.8s → 0.4s · queue 99 → 12 · adm/s 2 → 4" for a key, or the groups' p99 for a
    /// fleet-wide change; nil when there is nothing to compare yet.
    public func effect(in snapshot: FleetSnapshot, arrow: String = "→") -> String? {
        guard snapshot.now > at else { return nil }
        if let key, let k = snapshot.keys.first(where: { $0.key == key }), let p99 = keyP99, let waiters = keyWaiters {
            var parts = ["p99 \(Format.milliseconds(p99)) \(arrow) \(Format.milliseconds(k.waitMs.p99))",
                         "queue \(waiters) \(arrow) \(k.waiters)"]
            if let before = keyAdmittedPerSecond, let now = k.admittedPerSecond.last {
                parts.append("adm/s \(Format.number(before)) \(arrow) \(Format.number(now))")
            }
            return parts.joined(separator: ", ")
        }
        let parts = snapshot.groups.compactMap { g -> String? in
            guard let before = groupP99[g.name] else { return nil }
            return "\(g.name) p99 \(Format.milliseconds(before)) \(arrow) \(Format.milliseconds(g.waitMs.p99))"
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
