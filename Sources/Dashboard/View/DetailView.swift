import Fleet

/// The selected bucket over time: tokens and queue depth charts, and what the last change did.
enum DetailView {
    /// Rows the pane needs to show both charts readably (a shorter pane scrolls).
    static let contentHeight = 12

    /// A folded parent that is not a bucket (a client group): what is under it, in numbers.
    static func renderGroup(_ name: String, _ summary: ParentSummary, _ snapshot: FleetSnapshot, into grid: inout Grid,
                            at rect: Rect, context: ViewContext) {
        let palette = context.palette
        let group = snapshot.groups.first { $0.name == name }
        var lines: [(String, Style)] = [
            ("group \(name): \(summary.children) keys, \(Format.count(summary.waiting)) waiting", palette.style(.title, .bold)),
            ("admitted \(Format.number(summary.admittedPerSecond))/s  p99 \(Format.milliseconds(summary.p99))", palette.base),
        ]
        if let group {
            lines.append(("clients \(group.clients)  requests \(group.requests)  admitted \(group.admitted)  rejected \(group.rejected)",
                          group.rejected > 0 ? palette.style(.warn) : palette.base))
        }
        lines.append(("+ - ] [ Enter change every key of the group; \(context.glyphs.braille ? "←→" : "h/l") fold", palette.style(.inactiveFg)))
        for (i, (text, style)) in lines.enumerated() where i < rect.height {
            grid.put(TextFit.truncate(text, to: rect.width - 2, ellipsis: context.glyphs.ellipsis), x: rect.x + 1, y: rect.y + i, style: style)
        }
    }

    static func render(_ key: KeySnapshot, _ snapshot: FleetSnapshot, baseline: ChangeBaseline?, into grid: inout Grid,
                       at rect: Rect, context: ViewContext) {
        guard rect.height >= 4 else { return }
        let palette = context.palette
        let inner = Rect(x: rect.x + 1, y: rect.y, width: rect.width - 2, height: rect.height)
        var x = inner.x
        func put(_ text: String, _ style: Style, gap: Int = 2) {
            guard x + CellWidth.of(text) <= inner.maxX else { return }
            x += grid.put(text, x: x, y: inner.y, style: style, maxWidth: inner.maxX - x) + gap
        }
        put("cap \(Format.exact(key.capacity))", palette.base)
        put("tokens \(Format.compact(key.tokens))", palette.base)
        put("refill \(Format.exact(key.refillPerSecond))/s", palette.base)
        put("adm \(key.admitted)", palette.base)
        put("rej \(key.rejected)", key.rejected > 0 ? palette.style(.warn) : palette.base)
        if key.timedOut > 0 { put("timed out \(key.timedOut)", palette.style(.warn)) }
        put("p90 \(Format.milliseconds(key.waitMs.p90))", palette.base)
        put("max queue \(key.maxQueue)", palette.base)

        let seconds = Double(snapshot.sampleInterval) / 1e9
        let chartRows = inner.height - 3 // info row, change row, effect row
        let tokensHeight = (chartRows + 1) / 2
        let queueHeight = chartRows - tokensHeight
        // The fleet keeps series for its first keys only: a busy key without them is not charted,
        // which is not the same as "no data yet".
        let empty = key.requests > 0 ? "not charted (series are kept for the first keys only)" : "no data yet"
        Chart(title: "tokens", unit: "tok", samples: key.tokenSeries, secondsPerSample: seconds,
              maximum: key.capacity > 0 ? key.capacity : nil, style: palette.style(.tokensGraph),
              labelStyle: palette.style(.inactiveFg), glyphs: context.glyphs, emptyText: empty,
              format: { $0 < 1000 ? Format.exact($0) : Format.number($0) }) // the axis top is the capacity: keep its decimals
            .render(into: &grid, at: Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: tokensHeight))
        Chart(title: "queue depth", unit: "requests", samples: key.queueSeries, secondsPerSample: seconds,
              style: palette.style(.queueGraph), labelStyle: palette.style(.inactiveFg), glyphs: context.glyphs, emptyText: empty)
            .render(into: &grid, at: Rect(x: inner.x, y: inner.y + 1 + tokensHeight, width: inner.width, height: queueHeight))
        let g = context.glyphs
        let changeY = inner.maxY - 2
        guard let change = snapshot.lastChange else {
            grid.put(TextFit.truncate("last change: none yet (+ - ] [ Enter p s n change things)", to: inner.width, ellipsis: g.ellipsis),
                     x: inner.x, y: changeY, style: palette.style(.inactiveFg))
            return
        }
        let ago = Format.seconds(Double(max(0, snapshot.now - change.at)) / 1e9)
        let note = "\(ago) ago: \(change.summary)"
        grid.put(TextFit.truncate(note, to: inner.width, ellipsis: g.ellipsis), x: inner.x, y: changeY, style: palette.style(.hiFg))
        if let baseline, let effect = baseline.effect(in: snapshot, arrow: g.arrow) {
            let scope = baseline.key ?? "fleet"
            grid.put(TextFit.truncate("effect (\(scope)): \(effect)", to: inner.width, ellipsis: g.ellipsis),
                     x: inner.x, y: changeY + 1, style: palette.base)
        }
    }
}
