/// A bordered box in the middle of the screen, for the help and the preset picker.
enum Box {
    /// Draws the frame and clears the inside; returns the inside.
    static func draw(width: Int, height: Int, title: String, into grid: inout Grid, context: ViewContext) -> Rect {
        let palette = context.palette, g = context.glyphs
        let w = min(width, grid.width - 2), h = min(height, grid.height - 2)
        let rect = Rect(x: (grid.width - w) / 2, y: (grid.height - h) / 2, width: w, height: h)
        let border = palette.style(.title)
        let (tl, tr, bl, br) = g.braille ? ("╭", "╮", "╰", "╯") : ("+", "+", "+", "+")
        grid.fill(rect, with: Cell(" ", style: palette.base))
        let line = String(repeating: g.horizontal, count: max(0, w - 2))
        grid.put(tl + line + tr, x: rect.x, y: rect.y, style: border)
        grid.put(bl + line + br, x: rect.x, y: rect.maxY - 1, style: border)
        for y in rect.y + 1..<rect.maxY - 1 {
            grid.put(g.vertical, x: rect.x, y: y, style: border)
            grid.put(g.vertical, x: rect.maxX - 1, y: y, style: border)
        }
        grid.put(" \(title) ", x: rect.x + 2, y: rect.y, style: palette.style(.title, .bold), maxWidth: w - 4)
        return rect.inset(dx: 2, dy: 1)
    }
}

/// Every binding of the key table, in one or two columns.
enum HelpOverlay {
    static func render(_ state: DashboardState, into grid: inout Grid, context: ViewContext) {
        let palette = context.palette, g = context.glyphs
        let bindings = KeyTable.bindings
        let labelWidth = bindings.map { CellWidth.of(KeyTable.label($0, glyphs: g)) }.max() ?? 6
        let descWidth = bindings.map { CellWidth.of($0.help) }.max() ?? 20
        let entryWidth = labelWidth + 2 + descWidth
        let footer = "Mouse: click a row, a title to sort, a key below; wheel scrolls."
        let maxInner = grid.height - 2 - 2 - 2 // screen margin, border, footer + gap
        let twoColumns = bindings.count > maxInner
        let perColumn = twoColumns ? (bindings.count + 1) / 2 : bindings.count
        let wanted = twoColumns ? entryWidth * 2 + 3 : max(entryWidth, CellWidth.of(footer))
        let inner = Box.draw(width: wanted + 4, height: perColumn + 4, title: "keys", into: &grid, context: context)
        let columnWidth = twoColumns ? (inner.width - 2) / 2 : inner.width
        for (i, binding) in bindings.enumerated() {
            let column = i / perColumn, row = i % perColumn
            let x = inner.x + column * (columnWidth + 2), y = inner.y + row
            guard y < inner.maxY - 2 else { continue }
            grid.put(TextFit.pad(KeyTable.label(binding, glyphs: g), to: labelWidth), x: x, y: y, style: palette.style(.hiFg, .bold))
            grid.put(TextFit.truncate(binding.help, to: columnWidth - labelWidth - 2, ellipsis: g.ellipsis),
                     x: x + labelWidth + 2, y: y, style: palette.base)
        }
        grid.put(TextFit.truncate(footer, to: inner.width, ellipsis: g.ellipsis), x: inner.x, y: inner.maxY - 1,
                 style: palette.style(.inactiveFg))
        _ = state
    }
}

/// The provider-preset list.
enum PickerOverlay {
    static func render(_ picker: PresetPicker, into grid: inout Grid, context: ViewContext) {
        let palette = context.palette, g = context.glyphs
        let footer = "\(g.up)\(g.down) choose · Enter apply · Esc cancel"
        let width = max(CellWidth.of(footer), (picker.names.map { CellWidth.of($0) }.max() ?? 10) + 2) + 4
        let visible = min(picker.names.count, max(1, grid.height - 8))
        let inner = Box.draw(width: width, height: visible + 4, title: "provider preset", into: &grid, context: context)
        let first = max(0, min(picker.index - visible + 1, picker.names.count - visible))
        for (row, name) in picker.names.dropFirst(first).prefix(visible).enumerated() {
            let selected = first + row == picker.index
            grid.put(TextFit.pad((selected ? g.selected + " " : "  ") + name, to: inner.width), x: inner.x, y: inner.y + row,
                     style: selected ? palette.selected : palette.base)
        }
        grid.put(TextFit.truncate(footer, to: inner.width), x: inner.x, y: inner.maxY - 1, style: palette.style(.inactiveFg))
    }
}

/// Below the minimum size: say so in the middle, with both sizes, until the terminal grows.
enum SizeGate {
    static func render(into grid: inout Grid, width: Int, height: Int, context: ViewContext) {
        let palette = context.palette, times = context.glyphs.braille ? "×" : "x"
        let lines = [
            ("terminal too small", palette.style(.error, .bold)),
            ("\(width)\(times)\(height) now, needs \(DashboardLayout.minimumWidth)\(times)\(DashboardLayout.minimumHeight)", palette.base),
            ("enlarge the window, or q to quit", palette.style(.inactiveFg)),
        ]
        let top = max(0, (height - lines.count) / 2)
        for (i, (text, style)) in lines.enumerated() {
            grid.put(TextFit.center(text, in: width), x: 0, y: top + i, style: style)
        }
    }
}

/// The bottom row: the keys that matter most, as many as fit, drawn from the key table.
enum HintBar {
    /// The hints shown in `width` columns, in key-table order.
    static func hints(for state: DashboardState, width: Int, glyphs: Glyphs) -> [(String, String)] {
        placed(for: state, width: width, glyphs: glyphs).map { ($0.key, $0.word) }
    }

    /// The hints with the action a click on each does (nil: an overlay's hint, not clickable).
    static func placed(for state: DashboardState, width: Int, glyphs: Glyphs) -> [(key: String, word: String, action: Action?)] {
        switch state.overlay {
        case .help?: return [("any key", "closes the help", nil)]
        case .input?: return [("Enter", "apply both", nil), ("Tab", "capacity/refill", nil), ("Esc", "cancel", nil), ("Bksp", "delete", nil)]
        case .find?: return [("Enter", "keep filter", nil), ("Esc", "clear", nil), (glyphs.up + glyphs.down, "move", nil), ("Bksp", "delete", nil)]
        case .picker?: return [(glyphs.up + glyphs.down, "choose", nil), ("Enter", "apply", nil), ("Esc", "cancel", nil)]
        case nil: break
        }
        let candidates = KeyTable.bindings.enumerated().filter { $0.element.hint != nil }
        var chosen: Set<Int> = []
        var used = 0
        for (index, binding) in candidates.sorted(by: { ($0.element.hintRank, $0.offset) < ($1.element.hintRank, $1.offset) }) {
            let cost = CellWidth.of(KeyTable.hintLabel(binding, glyphs: glyphs)) + 1 + CellWidth.of(binding.hint!) + 2
            if used + cost > width - 1 { continue }
            used += cost; chosen.insert(index)
        }
        return candidates.filter { chosen.contains($0.offset) }.map {
            (KeyTable.hintLabel($0.element, glyphs: glyphs), $0.element.hint!, $0.element.action)
        }
    }

    static func render(_ state: DashboardState, into grid: inout Grid, at rect: Rect, context: ViewContext) {
        let palette = context.palette
        var x = rect.x + 1
        for (key, word, action) in placed(for: state, width: rect.width, glyphs: context.glyphs) {
            let start = x
            x += grid.put(key, x: x, y: rect.y, style: palette.style(.hiFg, .bold))
            x += grid.put(" " + word, x: x, y: rect.y, style: palette.style(.inactiveFg))
            if let action { grid.regions.append(HitRegion(Rect(x: start, y: rect.y, width: x - start, height: 1), .action(action))) }
            x += 2
        }
    }
}
