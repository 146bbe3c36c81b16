import Fleet

/// One row per bucket: fill, refill, waiters, admissions, waits, 429s.
enum BucketTableView {
    static func columns(sort: SortOrder, glyphs: Glyphs, groupWidth: Int = 5) -> [TableColumn] {
        let mark = glyphs.down
        return [
            TableColumn("", width: 1),
            TableColumn(sort == .name ? "key" + glyphs.up : "key", width: 9, flex: 2),
            TableColumn("group", width: groupWidth, dropOrder: 3),
            TableColumn("fill", width: 6, flex: 2),
            TableColumn("tokens", width: 7, alignRight: true),
            TableColumn("refill", width: 6, alignRight: true),
            TableColumn(sort == .waiters ? "queue" + mark : "queue", width: 7),
            TableColumn("oldest", width: 6, dropOrder: 2, alignRight: true),
            TableColumn("adm/s", width: 7, flex: 3),
            TableColumn("p50", width: 5, dropOrder: 1, alignRight: true),
            TableColumn(sort == .p99 ? "p99" + mark : "p99", width: 5, alignRight: true),
            TableColumn("429", width: 4, alignRight: true),
        ]
    }

    static func render(_ state: DashboardState, _ snapshot: FleetSnapshot, into grid: inout Grid, at rect: Rect,
                       context: ViewContext) {
        let palette = context.palette, g = context.glyphs
        let rows = state.rows(snapshot)
        let selectedIndex = state.selectedIndex(snapshot)
        let visible = Array(rows.dropFirst(state.scroll).prefix(max(0, rect.height - 1)))
        let queueScale = Double(max(1, rows.map(\.waiters).max() ?? 0))
        let admittedScale = BrailleChart.niceMaximum(rows.flatMap { $0.admittedPerSecond.suffix(64) }.max() ?? 0)
        let selected = palette.selected
        let records: [[TableCell]] = visible.enumerated().map { offset, key in
            let isSelected = state.scroll + offset == selectedIndex
            let fillFraction = key.capacity > 0 ? key.tokens / key.capacity : 0
            let p99Style = key.waitMs.p99 >= 1000 ? palette.style(.error, .bold)
                : key.waitMs.p99 >= 100 ? palette.style(.warn) : palette.base
            return [
                .text(isSelected ? g.selected : " ", palette.style(.hiFg, .bold)),
                .text(key.key, palette.base),
                .text(key.group, palette.style(key.group == "noisy" ? .noisy : key.group == "quiet" ? .quiet : .inactiveFg)),
                .widget { grid, r in
                    Gauge(fraction: fillFraction, glyphs: g, fillStyle: { palette.gradient(.fill, $0) })
                        .render(into: &grid, at: r)
                    if isSelected { grid.restyle(r) { $0.bg = selected.bg; $0.attributes.formUnion(selected.attributes) } }
                },
                .text("\(Format.number(key.tokens))/\(Format.number(key.capacity))", palette.base),
                .text("\(Format.number(key.refillPerSecond))/s", palette.base),
                .widget { grid, r in
                    let barWidth = max(1, r.width - 4)
                    Gauge(fraction: Double(key.waiters) / queueScale, style: palette.style(.queue), glyphs: g)
                        .render(into: &grid, at: Rect(x: r.x, y: r.y, width: barWidth, height: 1))
                    let count = key.waiters > 999 ? "1k+" : String(key.waiters)
                    grid.put(TextFit.pad(count, to: r.width - barWidth, alignRight: true), x: r.x + barWidth, y: r.y,
                             style: key.waiters > 0 ? palette.style(.queue, .bold) : palette.style(.inactiveFg))
                    if isSelected { grid.restyle(r) { $0.bg = selected.bg; $0.attributes.formUnion(selected.attributes) } }
                },
                .text(key.waiters > 0 ? Format.seconds(key.oldestWaitSeconds) : "-", palette.base),
                .widget { grid, r in
                    Sparkline(samples: key.admittedPerSecond, maximum: admittedScale, style: palette.style(.admittedGraph), glyphs: g)
                        .render(into: &grid, at: r)
                    if isSelected { grid.restyle(r) { $0.bg = selected.bg; $0.attributes.formUnion(selected.attributes) } }
                },
                .text(Format.milliseconds(key.waitMs.p50), palette.base),
                .text(Format.milliseconds(key.waitMs.p99), p99Style),
                .text(String(key.upstream429), key.upstream429 > 0 ? palette.style(.error) : palette.style(.inactiveFg)),
            ]
        }
        let header = state.focus == .table ? palette.style(.title, [.bold, .underline]) : palette.style(.inactiveFg, .bold)
        let groupWidth = min(8, max(5, rows.map { CellWidth.of($0.group) }.max() ?? 5))
        var columns = columns(sort: state.sort, glyphs: g, groupWidth: groupWidth)
        // The sparklines share one scale: name it in the title when the column has room.
        let admittedColumn = 8
        if let width = Table.widths(of: columns, in: rect.width)[admittedColumn] {
            let titled = "adm/s 0-\(Format.number(admittedScale))"
            if CellWidth.of(titled) <= width { columns[admittedColumn].title = titled }
        }
        Table(columns: columns, rows: records, headerStyle: header,
              selected: selectedIndex - state.scroll >= 0 ? selectedIndex - state.scroll : nil,
              selectedStyle: selected, ellipsis: g.ellipsis)
            .render(into: &grid, at: rect)
        if rows.isEmpty {
            grid.put("no buckets yet: the fleet has not sent a request", x: rect.x + 2, y: rect.y + 1, style: palette.style(.inactiveFg))
        }
    }
}
