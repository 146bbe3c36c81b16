import Fleet

/// Every client group of the scenario side by side (two to six columns, named as the scenario
/// names them), so a keying change that lets one group starve another shows as that group's
/// p99 climbing.
enum IsolationView {
    static let labelWidth = 10

    /// Rows the pane's content needs (more scrolls, with ↑/↓ while the pane has focus).
    static func contentHeight(_ snapshot: FleetSnapshot) -> Int {
        10 + GroupMarks.shown(snapshot.groups).count
    }

    /// Whether a percentile counts requests still waiting, so the true value is at least the one
    /// shown.
    static func isLowerBound(_ group: GroupSnapshot) -> Bool { group.waitMs.lowerBound }

    static func render(_ snapshot: FleetSnapshot, into grid: inout Grid, at rect: Rect, context: ViewContext) {
        guard rect.width >= 20, rect.height >= 3 else { return }
        let palette = context.palette, g = context.glyphs
        let groups = GroupMarks.shown(snapshot.groups)
        guard !groups.isEmpty else {
            grid.put(TextFit.truncate("no client groups to compare", to: rect.width - 2, ellipsis: g.ellipsis),
                     x: rect.x + 1, y: rect.y, style: palette.style(.inactiveFg))
            return
        }
        let count = max(2, groups.count) // one group still gets a half-width column
        let colWidth = max(4, (rect.width - 1 - labelWidth) / count)
        let x0 = rect.x + 1, x1 = x0 + labelWidth
        func columnX(_ i: Int) -> Int { x1 + i * colWidth }
        func styleKey(_ i: Int) -> ThemeKey { GroupMarks.themeKey(i, groups) }
        var y = rect.y
        func row(_ label: String, _ text: (GroupSnapshot) -> String, style: ((Int, GroupSnapshot) -> Style)? = nil) {
            guard y < rect.maxY else { return }
            grid.put(label, x: x0, y: y, style: palette.style(.inactiveFg), maxWidth: labelWidth)
            for (i, group) in groups.enumerated() {
                grid.put(TextFit.pad(text(group), to: colWidth - 1, alignRight: true, ellipsis: g.ellipsis), x: columnX(i), y: y,
                         style: style?(i, group) ?? palette.base)
            }
            y += 1
        }
        func p99Style(_ p: Double) -> Style {
            p >= 1000 ? palette.style(.error, .bold) : p >= 100 ? palette.style(.warn, .bold) : palette.style(.ok, .bold)
        }
        func percentile(_ group: GroupSnapshot, _ ms: Double) -> String {
            (isLowerBound(group) ? g.atLeast : "") + Format.milliseconds(ms)
        }
        row("", { group in
            let i = groups.firstIndex(of: group) ?? 0
            return GroupMarks.mark(i, glyphs: g) + " " + group.name
        }, style: { i, _ in palette.style(styleKey(i), .bold) })
        row("p99 wait", { percentile($0, $0.waitMs.p99) }, style: { _, group in p99Style(group.waitMs.p99) })
        row("p50 wait", { percentile($0, $0.waitMs.p50) })
        // Percentiles count admitted requests; waiting shows starvation before anything is admitted.
        row("waiting", { group in
            guard group.waiting > 0 else { return "0" }
            let full = "\(Format.count(group.waiting)) \(Format.milliseconds(group.oldestWaitSeconds * 1000))"
            return CellWidth.of(full) < colWidth ? full : Format.count(group.waiting)
        }, style: { _, group in
            let s = group.oldestWaitSeconds
            return s >= 1 ? palette.style(.error, .bold) : s >= 0.1 ? palette.style(.warn, .bold) : palette.base
        })
        row("admit/s", { Format.number($0.throughput) })
        // Share of admitted: a bar each when there is room, so the split reads at a glance.
        if y < rect.maxY {
            grid.put("share", x: x0, y: y, style: palette.style(.inactiveFg))
            for (i, group) in groups.enumerated() {
                let text = Format.percent(group.shareOfAdmitted)
                let textWidth = 5
                let barWidth = colWidth - 2 - textWidth
                grid.put(TextFit.pad(text, to: colWidth - 1, alignRight: true), x: columnX(i), y: y, style: palette.base,
                         maxWidth: colWidth - 1)
                if barWidth >= 2 {
                    Gauge(fraction: group.shareOfAdmitted, style: palette.style(styleKey(i)), glyphs: g)
                        .render(into: &grid, at: Rect(x: columnX(i), y: y, width: barWidth, height: 1))
                }
            }
            y += 1
        }
        // p99 over time per group, one line each, on a shared scale.
        let sparkWidth = rect.maxX - x1 - 1
        let scale = BrailleChart.niceMaximum(groups.flatMap(\.p99Series).max() ?? 0)
        for (i, group) in groups.enumerated() where y < rect.maxY {
            grid.put("p99 " + GroupMarks.mark(i, glyphs: g), x: x0, y: y, style: palette.style(styleKey(i), .bold))
            Sparkline(samples: group.p99Series, maximum: scale, style: palette.style(styleKey(i)), glyphs: g,
                      baseline: palette.style(.inactiveFg))
                .render(into: &grid, at: Rect(x: x1, y: y, width: sparkWidth, height: 1))
            y += 1
        }
        if y < rect.maxY {
            grid.put("p99 scale 0-\(Format.milliseconds(scale))", x: x1, y: y, style: palette.style(.inactiveFg))
            y += 1
        }
        row("clients", { String($0.clients) })
        row("429s", { String($0.upstream429) })
        row("rejected", { String($0.rejected) }, style: { _, group in
            group.requests > 0 && group.rejected == group.requests ? palette.style(.error, .bold) : palette.base
        })
        // Room to spare (tall terminals): each group's admissions over time, on one scale.
        let spare = rect.maxY - y - 1
        let chartHeight = groups.isEmpty ? 0 : spare / groups.count
        if chartHeight >= 3 {
            let seconds = Double(snapshot.sampleInterval) / 1e9
            let top = BrailleChart.niceMaximum(groups.flatMap(\.throughputSeries).max() ?? 0)
            var chartY = y + 1
            for (i, group) in groups.enumerated() {
                Chart(title: "\(GroupMarks.mark(i, glyphs: g)) \(group.name) admitted", unit: "req/s", samples: group.throughputSeries,
                      secondsPerSample: seconds, maximum: top, style: palette.style(styleKey(i)),
                      labelStyle: palette.style(.inactiveFg), glyphs: g)
                    .render(into: &grid, at: Rect(x: x0, y: chartY, width: rect.maxX - x0 - 1, height: chartHeight))
                chartY += chartHeight
            }
        }
    }
}
