import Fleet
import TokenBucket

// The forms that take the keys while open: the filter (`/`), the capacity and refill form
// (`Enter`) and the preset picker (`p`).
extension DashboardState {
    /// Typing into the filter: it applies as typed; Enter keeps it, Esc clears it.
    mutating func handleFind(_ key: Key, _ snapshot: FleetSnapshot) {
        switch key {
        case .escape:
            filter = ""
            overlay = nil
        case .enter:
            overlay = nil
            if !filter.isEmpty { message = StatusMessage("filter \"\(filter)\": Esc clears it") }
        case .backspace, .delete:
            if !filter.isEmpty { filter.removeLast() }
        case let .char(c):
            if filter.count < 40 { filter.append(c) }
        case .up, .down, .pageUp, .pageDown:
            // Moving through the matches while typing, as k9s allows.
            overlay = nil
            _ = perform(KeyTable.action(for: key)!, snapshot)
            overlay = .find
        default:
            break
        }
        scroll = 0
        keepSelectionVisible(snapshot)
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
            line.untouched.remove(line.field)
            if !line.text.isEmpty { line.text.removeLast() }
            line.error = nil
        case .enter:
            // Both fields are checked by the library's own rules before anything is sent, so a
            // range error keeps the form open with what was typed.
            var values: [ValueField: Double] = [:]
            for field in [ValueField.capacity, .refill] {
                let text = (field == .capacity ? line.capacity : line.refill).trimmingSpaces
                guard let value = Double(text) else {
                    line.error = text.isEmpty ? "type a \(field.rawValue)" : "\(field.rawValue): '\(text)' is not a number"
                    line.field = field
                    overlay = .input(line)
                    return []
                }
                values[field] = value
            }
            let capacity = values[.capacity]!, refill = values[.refill]!
            do {
                _ = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
            } catch {
                line.error = String(describing: error)
                line.field = String(describing: error).hasPrefix("refill") ? .refill : .capacity
                overlay = .input(line)
                return []
            }
            overlay = nil
            baseline = ChangeBaseline(snapshot, key: line.target)
            let keys: [String?] = line.targets ?? [line.target]
            let who = line.targets.map { "\($0.count) keys" } ?? line.target ?? "all keys"
            let reference = (line.targets?.first ?? line.target).flatMap { k in snapshot.keys.first { $0.key == k } }
            var effects: [Effect] = []
            // Only what changed is sent, so a refill edit does not reset capacities (or tokens).
            if reference.map({ $0.capacity != capacity }) ?? true { effects += keys.map { .command(.setCapacity(capacity, key: $0)) } }
            if reference.map({ $0.refillPerSecond != refill }) ?? true { effects += keys.map { .command(.setRefill(refill, key: $0)) } }
            message = StatusMessage(effects.isEmpty ? "unchanged" : "\(who): capacity \(Format.exact(capacity)) tokens, refill \(Format.exact(refill))/s")
            return effects
        case let .char(c):
            if line.untouched.contains(line.field) { line.text = ""; line.untouched.remove(line.field) }
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
