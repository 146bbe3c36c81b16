import Fleet

/// The panes Tab moves between.
public enum Pane: String, Sendable, CaseIterable {
    case table, detail, isolation
    var next: Pane { Pane.allCases[(Pane.allCases.firstIndex(of: self)! + 1) % Pane.allCases.count] }
}

/// Which parameter the edit form's cursor is in.
public enum ValueField: String, Sendable {
    case capacity, refill
    var other: ValueField { self == .capacity ? .refill : .capacity }
}

/// The edit form (`Enter`): capacity and refill together, each with its own text. Both start
/// with the current values; the first key typed into a field replaces its value (as a selected
/// field does), so text never carries from one field into the other.
public struct InputLine: Sendable, Equatable {
    public var field: ValueField
    public var capacity: String
    public var refill: String
    /// Whether a field still shows the value it opened with (the next character replaces it).
    public var untouched: Set<ValueField> = [.capacity, .refill]
    /// Key it applies to, nil for every key.
    public var target: String?
    /// Keys it applies to when a group row is selected (nil: `target`).
    public var targets: [String]?
    public var error: String?

    public init(field: ValueField = .capacity, capacity: String = "", refill: String = "",
                untouched: Set<ValueField> = [.capacity, .refill], target: String?, targets: [String]? = nil, error: String? = nil) {
        self.field = field; self.capacity = capacity; self.refill = refill; self.untouched = untouched; self.target = target
        self.targets = targets; self.error = error
    }

    /// The text of the field the cursor is in.
    public var text: String {
        get { field == .capacity ? capacity : refill }
        set { if field == .capacity { capacity = newValue } else { refill = newValue } }
    }
}

/// The provider-preset picker.
public struct PresetPicker: Sendable, Equatable {
    public var names: [String]
    public var index: Int
}

/// What covers the main screen and takes the keys while it is open.
public enum Overlay: Sendable, Equatable {
    case help
    /// Typing into the filter (`/`); the text is `DashboardState.filter`, applied as typed.
    case find
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
    /// Selected row by what it stands for, so the selection survives re-sorting and folding.
    public var selection: RowID?
    /// First table row shown.
    public var scroll: Int = 0
    /// Table rows that fit on screen (set on resize), for scrolling.
    public var visibleRows: Int = 8
    /// Screen size of the last frame, so a mouse position can be mapped to what is under it.
    public var screenWidth = 0, screenHeight = 0
    /// The terminal's glyph set, so a mouse position maps to the frame as drawn.
    public var glyphs: Glyphs = .unicode
    public var focus: Pane = .table
    /// First content row shown in the detail and isolation panes (↑/↓ while they have focus).
    public var paneScroll: [Pane: Int] = [:]
    public var sort = TableSort()
    /// Tenants over users, groups over keys (`T` turns it off).
    public var tree: Bool = true
    /// Parents folded or unfolded by hand; the others follow `TableModel.unfoldedUpTo`.
    public var expanded: [RowID: Bool] = [:]
    /// Keys whose name contains this (case-insensitive) are shown; empty shows all.
    public var filter: String = ""
    /// The keys' natural order and tree, kept between frames and key presses (not part of the
    /// state's value: copies share it, and it never makes two states differ).
    public var cache = NameRanks()
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

    /// The selected key's name; nil when a group row (or nothing) is selected. Setting it
    /// selects that key's row.
    public var selectedKey: String? {
        get { if case let .key(k)? = selection { return k } else { return nil } }
        set { selection = newValue.map { .key($0) } }
    }

    /// The table's rows in the current order, tree, filter and folding applied.
    public func model(_ snapshot: FleetSnapshot, ranks: NameRanks? = nil) -> TableModel { TableModel(self, snapshot, ranks: ranks ?? cache) }

    /// Index of the selected row in `model`: the selected key's row, else the row of the
    /// parent it is folded under, else the first bucket row (a keying change removed it).
    public func selectedIndex(_ model: TableModel, _ snapshot: FleetSnapshot) -> Int {
        if let i = model.index(of: selection) { return i }
        if case let .key(k)? = selection, let ki = snapshot.keys.firstIndex(where: { $0.key == k }) {
            for (id, children) in model.children where children.contains(ki) {
                if let i = model.index(of: id) { return i }
            }
        }
        return model.rows.firstIndex { $0.keyIndex != nil } ?? 0
    }

    /// The selected row, nil when the table is empty.
    public func selectedRow(_ model: TableModel, _ snapshot: FleetSnapshot) -> TableRow? {
        model.rows.isEmpty ? nil : model.rows[min(selectedIndex(model, snapshot), model.rows.count - 1)]
    }

    /// The bucket of the selected row (a tenant parent is a bucket; a group row is not).
    public func selected(_ snapshot: FleetSnapshot) -> KeySnapshot? {
        let model = model(snapshot)
        return selectedRow(model, snapshot)?.keyIndex.map { snapshot.keys[$0] }
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
            // Percentiles count admitted requests: say who is still waiting, and for how long, so
            // "p99 0 → 0" never hides a group starving right after the change.
            let waiting = g.waiting > 0 ? " (\(Format.count(g.waiting)) waiting \(Format.seconds(g.oldestWaitSeconds)))" : ""
            return "\(g.name) p99 \(Format.milliseconds(before)) \(arrow) \(Format.milliseconds(g.waitMs.p99))\(waiting)"
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
