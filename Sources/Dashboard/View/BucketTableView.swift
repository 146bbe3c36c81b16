import Fleet

/// One row per bucket (fill, refill, waiters, admissions, waits, 429s), under its tenant or
/// group when the table is a tree.
enum BucketTableView {
    /// The columns in order, with the sort column each orders by (nil: not sortable).
    static let sortColumns: [SortColumn?] = [nil, .key, .group, .fill, .tokens, .refill, .queue, .oldest, .admitted, .p50, .p99, .upstream429]

    /// Columns with their natural widths; text columns are widened to their content by `render`.
    static func columns(sort: TableSort, glyphs: Glyphs, groupWidth: Int = 5) -> [TableColumn] {
        let titles = ["", "key", "group", "fill", "tokens", "refill", "queue", "oldest", "adm/s", "p50", "p99", "429"]
        let marked = titles.enumerated().map { i, t in
            sortColumns[i] == sort.column ? t + (sort.descending ? glyphs.down : glyphs.up) : t
        }
        return [
            TableColumn(marked[0], width: 1),
            TableColumn(marked[1], width: 9, flex: 2),
            TableColumn(marked[2], width: groupWidth, dropOrder: 3),
            TableColumn(marked[3], width: 6, flex: 2),
            TableColumn(marked[4], width: 7, alignRight: true),
            TableColumn(marked[5], width: 6, alignRight: true),
            TableColumn(marked[6], width: 7),
            TableColumn(marked[7], width: 6, dropOrder: 2, alignRight: true),
            TableColumn(marked[8], width: 7, flex: 3),
            TableColumn(marked[9], width: 5, dropOrder: 1, alignRight: true),
            TableColumn(marked[10], width: 5, alignRight: true),
            TableColumn(marked[11], width: 4, alignRight: true),
        ]
    }

    /// First row shown: the state's scroll, moved just enough to show the selection.
    static func firstRow(_ state: DashboardState, rows: Int, selected: Int, visible: Int) -> Int {
        var top = min(state.scroll, max(0, rows - visible))
        if selected < top { top = selected }
        if selected >= top + visible { top = selected - visible + 1 }
        return max(0, top)
    }

    /// The table's layout at `width`: each column's sort column and span, for mouse clicks.
    static func spans(_ columns: [TableColumn], x: Int, width: Int) -> [(column: SortColumn?, x: Int, width: Int)] {
        var out: [(SortColumn?, Int, Int)] = []
        var cx = x
        for (i, w) in Table.widths(of: columns, in: width).enumerated() {
            guard let w else { continue }
            out.append((sortColumns[i], cx, w)); cx += w + 1
        }
        return out
    }

    /// The key cell's text: parents carry their fold mark and child count, children are indented.
    static func keyText(_ row: TableRow, _ name: String, glyphs: Glyphs) -> String {
        if let p = row.parent { return "\(p.expanded ? glyphs.unfolded : glyphs.folded) \(name) (\(p.children))" }
        return row.depth > 0 ? "  " + name : name
    }

    static func render(_ state: DashboardState, _ snapshot: FleetSnapshot, model: TableModel, into grid: inout Grid, at rect: Rect,
                       context: ViewContext) {
        let palette = context.palette, g = context.glyphs
        let rows = model.rows
        let selectedIndex = state.selectedIndex(model, snapshot)
        let visibleCount = max(0, rect.height - 1)
        let top = firstRow(state, rows: rows.count, selected: selectedIndex, visible: visibleCount)
        let visible = rows.dropFirst(top).prefix(visibleCount)
        // Scales from what is on screen, so a frame's work follows the rows shown, not every key.
        let visibleKeys = visible.compactMap { $0.keyIndex.map { snapshot.keys[$0] } }
        let queueScale = Double(max(1, visible.map { $0.parent?.waiting ?? $0.keyIndex.map { snapshot.keys[$0].waiters } ?? 0 }.max() ?? 0))
        let admittedScale = BrailleChart.niceMaximum(visibleKeys.flatMap { $0.admittedPerSecond.suffix(64) }.max() ?? 0)
        let selected = palette.selected
        let records: [[TableCell]] = visible.enumerated().map { offset, row in
            let isSelected = top + offset == selectedIndex
            func selectable(_ draw: @escaping (inout Grid, Rect) -> Void) -> TableCell {
                .widget { grid, r in
                    draw(&grid, r)
                    if isSelected { grid.restyle(r) { $0.bg = selected.bg; $0.attributes.formUnion(selected.attributes) } }
                }
            }
            let waiting = row.parent?.waiting ?? row.keyIndex.map { snapshot.keys[$0].waiters } ?? 0
            let queueCell = selectable { grid, r in
                let count = Format.count(waiting)
                let barWidth = max(1, r.width - CellWidth.of(count) - 1)
                Gauge(fraction: Double(waiting) / queueScale, style: palette.style(.queue), glyphs: g)
                    .render(into: &grid, at: Rect(x: r.x, y: r.y, width: barWidth, height: 1))
                grid.put(TextFit.pad(count, to: r.width - barWidth, alignRight: true), x: r.x + barWidth, y: r.y,
                         style: waiting > 0 ? palette.style(.queue, .bold) : palette.style(.inactiveFg))
            }
            func p99Cell(_ p99: Double, lowerBound: Bool = false) -> TableCell {
                .text((lowerBound ? g.atLeast : "") + Format.milliseconds(p99), p99 >= 1000 ? palette.style(.error, .bold) : p99 >= 100 ? palette.style(.warn) : palette.base)
            }
            let marker = TableCell.text(isSelected ? g.selected : " ", palette.style(.hiFg, .bold))
            guard let ki = row.keyIndex else {
                // A client group: no bucket of its own, only what is folded under it.
                let p = row.parent!
                return [marker, .text(keyText(row, row.id.name, glyphs: g), palette.style(.title, .bold)),
                        .text(row.id.name, palette.style(groupStyleKey(row.id.name, snapshot))),
                        .text(""), .text(""), .text(""), queueCell, .text(""),
                        .text(Format.number(p.admittedPerSecond), palette.base), .text(""), p99Cell(p.p99), .text("")]
            }
            let key = snapshot.keys[ki]
            let fillFraction = key.capacity > 0 ? key.tokens / key.capacity : 0
            return [
                marker,
                .text(keyText(row, key.key, glyphs: g), row.parent != nil ? palette.style(.title, .bold) : palette.base),
                .text(key.group, palette.style(groupStyleKey(key.group, snapshot))),
                selectable { grid, r in
                    Gauge(fraction: fillFraction, glyphs: g, fillStyle: { palette.gradient(.fill, $0) }).render(into: &grid, at: r)
                },
                .text("\(Format.compact(key.tokens))/\(Format.compact(key.capacity))", palette.base),
                .text("\(Format.compact(key.refillPerSecond))/s", palette.base),
                queueCell,
                .text(waiting > 0 && key.oldestWaitSeconds > 0 ? Format.seconds(key.oldestWaitSeconds) : "-", palette.base),
                selectable { grid, r in
                    // No series: a new key, or one past the keys the fleet charts; "-" claims neither.
                    Sparkline(samples: key.admittedPerSecond, maximum: admittedScale, style: palette.style(.admittedGraph), glyphs: g,
                              emptyText: "-")
                        .render(into: &grid, at: r)
                },
                .text(Format.milliseconds(key.waitMs.p50), palette.base),
                p99Cell(row.parent?.p99 ?? key.waitMs.p99, lowerBound: isLowerBound(key)),
                .text(String(key.upstream429), key.upstream429 > 0 ? palette.style(.error) : palette.style(.inactiveFg)),
            ]
        }
        let header = state.focus == .table ? palette.style(.title, [.bold, .underline]) : palette.style(.inactiveFg, .bold)
        let groupWidth = min(10, max(5, visibleKeys.map { CellWidth.of($0.group) }.max() ?? 5))
        // Grouped by group, the group column would repeat the parent row: hide it.
        let groupedByGroup = model.isTree && snapshot.keying != .hierarchical
        var columns = columns(sort: state.sort, glyphs: g, groupWidth: groupedByGroup ? 0 : groupWidth)
        fitToContent(&columns, records, tableWidth: rect.width)
        // The sparklines share one scale: name it in the title when the column has room.
        let admittedColumn = 8
        if let width = Table.widths(of: columns, in: rect.width)[admittedColumn] {
            let titled = columns[admittedColumn].title + " 0-\(Format.number(admittedScale))"
            if CellWidth.of(titled) <= width { columns[admittedColumn].title = titled }
        }
        // Mouse targets: titles sort, rows select, fold marks fold.
        for span in spans(columns, x: rect.x, width: rect.width) {
            if let column = span.column { grid.regions.append(HitRegion(Rect(x: span.x, y: rect.y, width: span.width, height: 1), .sortColumn(column))) }
        }
        let keyX = spans(columns, x: rect.x, width: rect.width).first { $0.column == .key }?.x ?? rect.x
        for (offset, row) in visible.enumerated() {
            let y = rect.y + 1 + offset
            grid.regions.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .row(row.id)))
            if row.parent != nil { grid.regions.append(HitRegion(Rect(x: keyX, y: y, width: 2, height: 1), .fold(row.id))) }
        }
        Table(columns: columns, rows: records, headerStyle: header,
              selected: selectedIndex - top >= 0 ? selectedIndex - top : nil,
              selectedStyle: selected, ellipsis: g.ellipsis)
            .render(into: &grid, at: rect)
        if rows.isEmpty {
            let text = state.filter.isEmpty ? "no buckets yet: the fleet has not sent a request"
                : "no key contains \"\(state.filter)\" (Esc clears the filter)"
            grid.put(text, x: rect.x + 2, y: rect.y + 1, style: palette.style(.inactiveFg), maxWidth: rect.width - 2)
        }
    }

    /// Whether a key's percentiles count requests still waiting (the true value is at least the
    /// one shown).
    static func isLowerBound(_ key: KeySnapshot) -> Bool { key.waitMs.lowerBound }

    /// Text columns as wide as their widest visible cell (and title), so numbers are never cut:
    /// widths come from the content, the key column takes what is left.
    static func fitToContent(_ columns: inout [TableColumn], _ records: [[TableCell]], tableWidth: Int) {
        for i in columns.indices where i != 1 && columns[i].width > 0 {
            var widest = CellWidth.of(columns[i].title)
            var isText = false
            for record in records where i < record.count {
                if case let .text(s, _) = record[i] { widest = max(widest, CellWidth.of(s)); isText = true }
            }
            if isText { columns[i].width = max(columns[i].width, widest) }
        }
        // Keys as wide as the longest shown, up to a third of the table (then cut with an ellipsis).
        var longest = CellWidth.of(columns[1].title)
        for record in records { if case let .text(s, _) = record[1] { longest = max(longest, CellWidth.of(s)) } }
        columns[1].width = max(columns[1].width, min(longest, tableWidth / 3))
    }

    /// Each group of the scenario keeps one colour: the first group the quiet one's, the others
    /// the noisy one's (themes have two group colours; the markers tell more apart).
    static func groupStyleKey(_ group: String, _ snapshot: FleetSnapshot) -> ThemeKey {
        guard let i = GroupMarks.shown(snapshot.groups).firstIndex(where: { $0.name == group }) else { return .inactiveFg }
        return GroupMarks.themeKey(i, snapshot.groups)
    }
}
