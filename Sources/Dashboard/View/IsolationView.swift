import Fleet

/// The quiet and noisy groups side by side, so a keying change that lets noisy clients starve
/// quiet ones shows as the quiet column's p99 climbing.
enum IsolationView {
    static func render(_ snapshot: FleetSnapshot, into grid: inout Grid, at rect: Rect, context: ViewContext) {
        guard rect.width >= 20, rect.height >= 3 else { return }
        let palette = context.palette, g = context.glyphs
        // quiet and noisy when the scenario has them, otherwise its first two groups.
        let (quiet, noisy) = pair(snapshot.groups)
        let quietName = quiet?.name ?? "quiet", noisyName = noisy?.name ?? "noisy"
        let labelWidth = 10
        let colWidth = (rect.width - 1 - labelWidth) / 2
        let x0 = rect.x + 1, x1 = x0 + labelWidth, x2 = x1 + colWidth
        var y = rect.y
        func row(_ label: String, _ a: String, _ b: String, styleA: Style? = nil, styleB: Style? = nil) {
            guard y < rect.maxY else { return }
            grid.put(label, x: x0, y: y, style: palette.style(.inactiveFg), maxWidth: labelWidth)
            grid.put(TextFit.pad(a, to: colWidth - 1, alignRight: true), x: x1, y: y, style: styleA ?? palette.base)
            grid.put(TextFit.pad(b, to: colWidth - 1, alignRight: true), x: x2, y: y, style: styleB ?? palette.base)
            y += 1
        }
        func p99Style(_ group: GroupSnapshot?) -> Style {
            guard let p = group?.waitMs.p99 else { return palette.base }
            return p >= 1000 ? palette.style(.error, .bold) : p >= 100 ? palette.style(.warn, .bold) : palette.style(.ok, .bold)
        }
        row("", g.quietMark + " " + quietName, g.noisyMark + " " + noisyName, styleA: palette.style(.quiet, .bold), styleB: palette.style(.noisy, .bold))
        row("p99 wait", quiet.map { Format.milliseconds($0.waitMs.p99) } ?? "-", noisy.map { Format.milliseconds($0.waitMs.p99) } ?? "-",
            styleA: p99Style(quiet), styleB: p99Style(noisy))
        row("p50 wait", quiet.map { Format.milliseconds($0.waitMs.p50) } ?? "-", noisy.map { Format.milliseconds($0.waitMs.p50) } ?? "-")
        // Percentiles count admitted requests only; waiting shows starvation before anything is admitted.
        func waitingText(_ group: GroupSnapshot?) -> String {
            guard let group else { return "-" }
            return group.waiting == 0 ? "0" : "\(group.waiting) \(Format.milliseconds(group.oldestWaitSeconds * 1000))"
        }
        func waitingStyle(_ group: GroupSnapshot?) -> Style {
            guard let s = group?.oldestWaitSeconds, s > 0 else { return palette.base }
            return s >= 1 ? palette.style(.error, .bold) : s >= 0.1 ? palette.style(.warn, .bold) : palette.base
        }
        row("waiting", waitingText(quiet), waitingText(noisy), styleA: waitingStyle(quiet), styleB: waitingStyle(noisy))
        row("admit/s", quiet.map { Format.number($0.throughput) } ?? "-", noisy.map { Format.number($0.throughput) } ?? "-")
        // Share of admitted: a bar each, so the split reads at a glance.
        if y < rect.maxY {
            grid.put("share", x: x0, y: y, style: palette.style(.inactiveFg))
            for (group, x, key) in [(quiet, x1, ThemeKey.quiet), (noisy, x2, ThemeKey.noisy)] {
                let share = group?.shareOfAdmitted ?? 0
                let text = group.map { _ in Format.percent(share) } ?? "-"
                let textWidth = 5
                let barWidth = max(0, colWidth - 2 - textWidth)
                Gauge(fraction: share, style: palette.style(key), glyphs: g)
                    .render(into: &grid, at: Rect(x: x, y: y, width: barWidth, height: 1))
                grid.put(TextFit.pad(text, to: textWidth, alignRight: true), x: x + barWidth, y: y, style: palette.base)
            }
            y += 1
        }
        // p99 over time per group, one line each, on a shared scale.
        let sparkWidth = rect.maxX - x1 - 1
        let scale = BrailleChart.niceMaximum(((quiet?.p99Series ?? []) + (noisy?.p99Series ?? [])).max() ?? 0)
        for (group, mark, key) in [(quiet, g.quietMark, ThemeKey.quiet), (noisy, g.noisyMark, ThemeKey.noisy)] where y < rect.maxY {
            grid.put("p99 " + mark, x: x0, y: y, style: palette.style(key, .bold))
            Sparkline(samples: group?.p99Series ?? [], maximum: scale, style: palette.style(key), glyphs: g)
                .render(into: &grid, at: Rect(x: x1, y: y, width: sparkWidth, height: 1))
            y += 1
        }
        if y < rect.maxY {
            grid.put("p99 scale 0-\(Format.milliseconds(scale))", x: x1, y: y, style: palette.style(.inactiveFg))
            y += 1
        }
        row("clients", quiet.map { String($0.clients) } ?? "-", noisy.map { String($0.clients) } ?? "-")
        row("429s", quiet.map { String($0.upstream429) } ?? "-", noisy.map { String($0.upstream429) } ?? "-")
        row("rejected", quiet.map { String($0.rejected) } ?? "-", noisy.map { String($0.rejected) } ?? "-")
        // Room to spare (tall terminals): each group's admissions over time, on one scale.
        let spare = rect.maxY - y - 1
        if spare >= 6, quiet != nil || noisy != nil {
            let seconds = Double(snapshot.sampleInterval) / 1e9
            let top = BrailleChart.niceMaximum(((quiet?.throughputSeries ?? []) + (noisy?.throughputSeries ?? [])).max() ?? 0)
            let half = spare / 2
            var chartY = y + 1
            for (group, mark, key) in [(quiet, g.quietMark, ThemeKey.quiet), (noisy, g.noisyMark, ThemeKey.noisy)] {
                guard let group else { continue }
                Chart(title: "\(mark) \(group.name) admitted", unit: "req/s", samples: group.throughputSeries,
                      secondsPerSample: seconds, maximum: top, style: palette.style(key),
                      labelStyle: palette.style(.inactiveFg), glyphs: g)
                    .render(into: &grid, at: Rect(x: x0, y: chartY, width: rect.maxX - x0 - 1, height: half))
                chartY += half
            }
        }
        if quiet == nil && noisy == nil, rect.height > 2 {
            grid.put(TextFit.truncate("no client groups to compare", to: rect.width - 2, ellipsis: g.ellipsis),
                     x: x0, y: rect.maxY - 1, style: palette.style(.inactiveFg))
        }
    }

    static func pair(_ groups: [GroupSnapshot]) -> (GroupSnapshot?, GroupSnapshot?) {
        if let q = groups.first(where: { $0.name == "quiet" }), let n = groups.first(where: { $0.name == "noisy" }) { return (q, n) }
        let sorted = groups.filter { $0.name != "mixed" }.sorted { $0.name < $1.name }
        return (sorted.first, sorted.dropFirst().first)
    }
}
