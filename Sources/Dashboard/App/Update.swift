import Fleet

/// Something for the run loop to do after `update`: the only way a key reaches the fleet.
public enum Effect: Sendable, Equatable {
    case command(FleetCommand)
    case setPaused(Bool)
    /// Advance the paused simulation by one sample interval.
    case step
    case restart
    case setTheme(String)
    /// Write the current screen as SVG and plain text into the working directory.
    case saveScreen
    case quit
}

/// Input to `update`.
public enum Event: Sendable, Equatable {
    case key(Key)
    /// The table now has room for this many rows.
    case layout(visibleRows: Int)
    /// The terminal is this size: the table's rows and the mouse's targets follow from it.
    case screen(width: Int, height: Int)
    /// A mouse button or wheel, at a screen cell.
    case mouse(MouseEvent)
    /// The run loop could not carry out an effect (the driver rejected a value, ...).
    case failed(String)
    /// The status message has been shown long enough.
    case messageExpired
    /// The run loop did something worth saying (where a saved screen went).
    case note(String)
}

/// The dashboard's state transitions: pure, no I/O, so every key is tested without a terminal.
///
/// ```swift
/// let (next, effects) = DashboardUpdate.update(state, .key(.char("+")), snapshot: snapshot)
/// // effects == [.command(.setCapacity(25, key: "user-1"))]
/// ```
public enum DashboardUpdate {
    /// Factor `+`/`-` and `]`/`[` multiply or divide by.
    public static let step = 1.25

    public static func update(_ state: DashboardState, _ event: Event, snapshot: FleetSnapshot) -> (DashboardState, [Effect]) {
        var s = state
        var effects: [Effect] = []
        switch event {
        case let .layout(rows):
            s.visibleRows = max(1, rows)
            s.keepSelectionVisible(snapshot)
        case let .screen(width, height):
            s.screenWidth = width; s.screenHeight = height
            let rows = s.model(snapshot).rows.count
            s.visibleRows = max(1, DashboardLayout(width: width, height: height, keyCount: rows)?.tableRows ?? 1)
            s.keepSelectionVisible(snapshot)
        case let .mouse(event):
            effects = s.handleMouse(event, snapshot)
        case let .failed(message):
            s.message = StatusMessage(message, isError: true)
        case .messageExpired:
            s.message = nil
        case let .note(text):
            s.message = StatusMessage(text)
        case .key(.ctrl("c")):
            // Ctrl-C quits from anywhere: help, input line and picker included.
            s.quit = true
            effects = [.quit]
        case let .key(key):
            switch s.overlay {
            case .help:
                s.overlay = nil // any key closes the help
            case .find?:
                s.handleFind(key, snapshot)
            case let .input(line)?:
                effects = s.handleInput(line, key, snapshot)
            case let .picker(picker)?:
                effects = s.handlePicker(picker, key, snapshot)
            case nil:
                guard let action = KeyTable.action(for: key) else {
                    if case .escape = key {
                        // Esc clears the filter first (k9s), then the message.
                        if !s.filter.isEmpty { s.filter = ""; s.message = StatusMessage("filter cleared"); s.keepSelectionVisible(snapshot) } else { s.message = nil }
                    } else {
                        s.message = StatusMessage("unbound key \(key.label(.unicode)); ? shows the keys")
                    }
                    break
                }
                effects = s.perform(action, snapshot)
            }
        }
        return (s, effects)
    }
}

extension DashboardState {
    mutating func perform(_ action: Action, _ snapshot: FleetSnapshot) -> [Effect] {
        message = nil
        // The table's rows only for the actions that need them (with 10,000 keys a model is
        // milliseconds, and `?` or Space should not pay for it).
        lazy var model = self.model(snapshot)
        lazy var row = selectedRow(model, snapshot)
        lazy var current = row?.keyIndex.map { snapshot.keys[$0] }
        // A group row (not a bucket) sends each change to every key folded under it.
        lazy var groupKeys: [String]? = current == nil ? row.flatMap { model.children[$0.id] }.map { $0.map { snapshot.keys[$0].key } } : nil
        lazy var reference = current ?? groupKeys?.first.flatMap { k in snapshot.keys.first { $0.key == k } }
        lazy var target = applyToAll ? nil : current?.key
        lazy var targetText = applyToAll ? "all keys" : current?.key ?? row.map { "\($0.id.name) (\(groupKeys?.count ?? 0) keys)" } ?? "all keys"
        func commands(_ make: (String?) -> FleetCommand) -> [Effect] {
            if !applyToAll, current == nil, let groupKeys { return groupKeys.map { .command(make($0)) } }
            return [.command(make(target))]
        }
        switch action {
        case .quit:
            quit = true
            return [.quit]
        case .help:
            overlay = .help
        case .selectNext, .selectPrevious, .pageUp, .pageDown, .first, .last:
            if focus != .table {
                // ↑/↓ act on what has focus: a pane scrolls its content.
                let old = paneScroll[focus] ?? 0
                let step: Int = switch action {
                case .selectNext: 1
                case .selectPrevious: -1
                case .pageDown: 10
                case .pageUp: -10
                case .first: -old
                default: 1000
                }
                paneScroll[focus] = max(0, old + step) // the view clamps to the content's height
                break
            }
            guard !model.rows.isEmpty else { break }
            let here = selectedIndex(model, snapshot)
            let page = max(1, visibleRows - 1)
            let i: Int = switch action {
            case .selectNext: here + 1
            case .selectPrevious: here - 1
            case .pageDown: here + page
            case .pageUp: here - page
            case .first: 0
            default: model.rows.count - 1
            }
            selection = model.rows[min(max(0, i), model.rows.count - 1)].id
            keepSelectionVisible(snapshot)
        case .nextPane:
            focus = focus.next
        case .cycleSort, .reverseSort:
            if selection == nil { selection = row?.id }
            sort = action == .cycleSort ? TableSort(sort.column.next) : TableSort(sort.column, descending: !sort.descending)
            keepSelectionVisible(snapshot)
            message = StatusMessage("sorted by \(sort.label(.unicode))")
        case .filter:
            overlay = .find
            focus = .table
        case .fold, .unfold:
            guard let row else { break }
            if row.parent == nil, action == .fold, let parent = model.rows[..<selectedIndex(model, snapshot)].last(where: { $0.parent != nil && row.depth > 0 }) {
                // ← on a child goes to its parent and folds it, as file trees do.
                selection = parent.id
                expanded[parent.id] = false
            } else if row.parent != nil {
                expanded[row.id] = action == .unfold
            }
            keepSelectionVisible(snapshot)
        case .foldAll:
            let parents = model.rows.filter { $0.parent != nil }
            let unfold = parents.contains { $0.parent?.expanded == false }
            for p in parents { expanded[p.id] = unfold }
            if let row, row.depth > 0, !unfold,
               let parent = model.rows[..<selectedIndex(model, snapshot)].last(where: { $0.parent != nil }) { selection = parent.id }
            message = StatusMessage(parents.isEmpty ? "nothing to fold under \(snapshot.keying.rawValue) keying" : unfold ? "unfolded all" : "folded all")
            keepSelectionVisible(snapshot)
        case .toggleTree:
            if selection == nil { selection = row?.id } // the row selected now, found again in the other view
            tree.toggle()
            message = StatusMessage(tree ? "tree: tenants and groups fold their keys" : "flat table")
            keepSelectionVisible(snapshot)
        case .capacityUp, .capacityDown:
            guard let reference else { message = StatusMessage("no bucket to change", isError: true); break }
            let value = DashboardUpdate.rounded(action == .capacityUp ? reference.capacity * DashboardUpdate.step
                                                                      : reference.capacity / DashboardUpdate.step)
            message = StatusMessage("capacity \(targetText): \(Format.exact(reference.capacity)) → \(Format.exact(value)) tokens")
            baseline = ChangeBaseline(snapshot, key: target)
            return commands { .setCapacity(value, key: $0) }
        case .refillUp, .refillDown:
            guard let reference else { message = StatusMessage("no bucket to change", isError: true); break }
            let value = DashboardUpdate.rounded(action == .refillUp ? reference.refillPerSecond * DashboardUpdate.step
                                                                    : reference.refillPerSecond / DashboardUpdate.step)
            message = StatusMessage("refill \(targetText): \(Format.exact(reference.refillPerSecond))/s → \(Format.exact(value))/s")
            baseline = ChangeBaseline(snapshot, key: target)
            return commands { .setRefill(value, key: $0) }
        case .toggleApplyToAll:
            applyToAll.toggle()
            message = StatusMessage(applyToAll ? "changes now apply to all keys" : "changes now apply to the selected key")
        case .enterValue:
            guard let reference else { message = StatusMessage("no bucket to change", isError: true); break }
            overlay = .input(InputLine(capacity: Format.exact(reference.capacity), refill: Format.exact(reference.refillPerSecond),
                                       target: target, targets: applyToAll ? nil : groupKeys))
        case .cycleKeying:
            let next = snapshot.keying.next
            message = StatusMessage("keying \(snapshot.keying.rawValue) → \(next.rawValue)")
            baseline = ChangeBaseline(snapshot, key: nil)
            return [.command(.setKeying(next))]
        case .toggleNoisy:
            message = StatusMessage(snapshot.noisyEnabled ? "noisy neighbours off" : "noisy neighbours on")
            baseline = ChangeBaseline(snapshot, key: nil)
            return [.command(.setNoisy(!snapshot.noisyEnabled))]
        case .pickPreset:
            guard !presetNames.isEmpty else { message = StatusMessage("no provider presets available", isError: true); break }
            overlay = .picker(PresetPicker(names: presetNames, index: 0))
        case .togglePause:
            paused.toggle()
            // Live mode cannot step: only offer what works.
            message = StatusMessage(paused ? (mode == .simulated ? "paused: . steps, Space resumes" : "paused: Space resumes") : "running")
            return [.setPaused(paused)]
        case .step:
            guard mode == .simulated else { message = StatusMessage("live mode cannot step", isError: true); break }
            guard paused else { message = StatusMessage("step works while paused (Space pauses)"); break }
            return [.step]
        case .slower, .faster:
            guard mode == .simulated else {
                message = StatusMessage("live mode runs in real time: ×1 only", isError: true); break
            }
            let speeds = DashboardState.speeds
            let i = speeds.firstIndex { $0 >= speed - 1e-9 } ?? speeds.count - 1
            let j = min(max(0, i + (action == .faster ? 1 : -1)), speeds.count - 1)
            speed = speeds[j]
            message = StatusMessage("speed \(Format.speed(speed))")
        case .cycleTheme:
            guard !themeNames.isEmpty else { break }
            themeIndex = (themeIndex + 1) % themeNames.count
            message = StatusMessage("theme \(themeName)")
            return [.setTheme(themeName)]
        case .saveScreen:
            return [.saveScreen]
        case .restart:
            message = StatusMessage("restarted \(snapshot.scenario)")
            scroll = 0
            baseline = nil
            return [.restart]
        case .toggleCompare:
            compare = compare == nil ? CompareFeed(snapshot, budgetFrom: current) : nil
            message = StatusMessage(compare == nil ? "compare view off" : "compare view: every algorithm on the arrivals from now on")
        }
        return []
    }

    mutating func keepSelectionVisible(_ snapshot: FleetSnapshot) {
        let model = model(snapshot)
        let count = model.rows.count
        let i = selectedIndex(model, snapshot)
        if i < scroll { scroll = i }
        if i >= scroll + visibleRows { scroll = i - visibleRows + 1 }
        scroll = max(0, min(scroll, max(0, count - visibleRows)))
    }
}

extension DashboardUpdate {
    /// Three significant digits, so repeated ×1.25 steps stay readable (20 → 25 → 31.3 → 39.1).
    static func rounded(_ v: Double) -> Double {
        guard v.isFinite, v > 0 else { return v }
        var scale = 1.0
        while v * scale < 100 { scale *= 10 }
        while v * scale >= 1000 { scale /= 10 }
        return (v * scale).rounded() / scale
    }
}
