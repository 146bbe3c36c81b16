import Fleet

/// Something for the run loop to do after `update`: the only way a key reaches the fleet.
public enum Effect: Sendable, Equatable {
    case command(FleetCommand)
    case setPaused(Bool)
    /// Advance the paused simulation by one sample interval.
    case step
    case restart
    case setTheme(String)
    case quit
}

/// Input to `update`.
public enum Event: Sendable, Equatable {
    case key(Key)
    /// The table now has room for this many rows.
    case layout(visibleRows: Int)
    /// The run loop could not carry out an effect (the driver rejected a value, ...).
    case failed(String)
    /// The status message has been shown long enough.
    case messageExpired
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
        case let .failed(message):
            s.message = StatusMessage(message, isError: true)
        case .messageExpired:
            s.message = nil
        case .key(.ctrl("c")):
            // Ctrl-C quits from anywhere: help, input line and picker included.
            s.quit = true
            effects = [.quit]
        case let .key(key):
            switch s.overlay {
            case .help:
                s.overlay = nil // any key closes the help
            case let .input(line)?:
                effects = s.handleInput(line, key, snapshot)
            case let .picker(picker)?:
                effects = s.handlePicker(picker, key, snapshot)
            case nil:
                guard let action = KeyTable.action(for: key) else {
                    if case .escape = key { s.message = nil } else { s.message = StatusMessage("unbound key \(key.label(.unicode)); ? shows the keys") }
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
        let rows = rows(snapshot)
        let current = selected(snapshot)
        let target = applyToAll ? nil : current?.key
        let targetText = target ?? "all keys"
        switch action {
        case .quit:
            quit = true
            return [.quit]
        case .help:
            overlay = .help
        case .selectNext, .selectPrevious:
            guard !rows.isEmpty else { break }
            let i = selectedIndex(snapshot) + (action == .selectNext ? 1 : -1)
            selectedKey = rows[min(max(0, i), rows.count - 1)].key
            keepSelectionVisible(snapshot)
        case .nextPane:
            focus = focus.next
        case .cycleSort:
            if selectedKey == nil { selectedKey = current?.key }
            sort = sort.next
            keepSelectionVisible(snapshot)
            message = StatusMessage("sorted by \(sort.rawValue)")
        case .capacityUp, .capacityDown:
            guard let current else { message = StatusMessage("no bucket to change", isError: true); break }
            let value = DashboardUpdate.rounded(action == .capacityUp ? current.capacity * DashboardUpdate.step
                                                                      : current.capacity / DashboardUpdate.step)
            message = StatusMessage("capacity \(targetText): \(Format.exact(current.capacity)) → \(Format.exact(value)) tokens")
            baseline = ChangeBaseline(snapshot, key: target)
            return [.command(.setCapacity(value, key: target))]
        case .refillUp, .refillDown:
            guard let current else { message = StatusMessage("no bucket to change", isError: true); break }
            let value = DashboardUpdate.rounded(action == .refillUp ? current.refillPerSecond * DashboardUpdate.step
                                                                    : current.refillPerSecond / DashboardUpdate.step)
            message = StatusMessage("refill \(targetText): \(Format.exact(current.refillPerSecond))/s → \(Format.exact(value))/s")
            baseline = ChangeBaseline(snapshot, key: target)
            return [.command(.setRefill(value, key: target))]
        case .toggleApplyToAll:
            applyToAll.toggle()
            message = StatusMessage(applyToAll ? "changes now apply to all keys" : "changes now apply to the selected key")
        case .enterValue:
            guard current != nil || applyToAll else { message = StatusMessage("no bucket to change", isError: true); break }
            overlay = .input(InputLine(field: .capacity, text: "", target: target, error: nil))
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
            message = StatusMessage(paused ? "paused: . steps, Space resumes" : "running")
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
        let count = snapshot.keys.count
        let i = selectedIndex(snapshot)
        if i < scroll { scroll = i }
        if i >= scroll + visibleRows { scroll = i - visibleRows + 1 }
        scroll = max(0, min(scroll, max(0, count - visibleRows)))
    }

    mutating func handleInput(_ line: InputLine, _ key: Key, _ snapshot: FleetSnapshot) -> [Effect] {
        var line = line
        switch key {
        case .escape:
            overlay = nil
            message = StatusMessage("cancelled")
            return []
        case .tab, .backTab:
            line.field = line.field.other
            line.error = nil
        case .backspace, .delete:
            if !line.text.isEmpty { line.text.removeLast() }
            line.error = nil
        case .enter:
            let text = line.text.trimmingSpaces
            guard let value = Double(text), value.isFinite else {
                line.error = text.isEmpty ? "type a number" : "'\(text)' is not a number"
                break
            }
            guard value > 0 else {
                line.error = "\(line.field.rawValue) must be > 0, got \(Format.number(value))"
                break
            }
            overlay = nil
            baseline = ChangeBaseline(snapshot, key: line.target)
            let who = line.target ?? "all keys"
            switch line.field {
            case .capacity:
                message = StatusMessage("capacity \(who) set to \(Format.exact(value)) tokens")
                return [.command(.setCapacity(value, key: line.target))]
            case .refill:
                message = StatusMessage("refill \(who) set to \(Format.exact(value))/s")
                return [.command(.setRefill(value, key: line.target))]
            }
        case let .char(c):
            if line.text.count < 16 { line.text.append(c) }
            line.error = nil
        default:
            break
        }
        overlay = .input(line)
        return []
    }

    mutating func handlePicker(_ picker: PresetPicker, _ key: Key, _ snapshot: FleetSnapshot) -> [Effect] {
        var picker = picker
        switch key {
        case .up, .char("k"):
            picker.index = max(0, picker.index - 1)
        case .down, .char("j"):
            picker.index = min(picker.names.count - 1, picker.index + 1)
        case .enter:
            overlay = nil
            let name = picker.names[picker.index]
            baseline = ChangeBaseline(snapshot, key: nil)
            message = StatusMessage("preset \(name) applied to every client bucket")
            return [.command(.applyPreset(name))]
        case .escape, .char("q"), .char("p"):
            overlay = nil
            return []
        default:
            break
        }
        overlay = .picker(picker)
        return []
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
