import Fleet

/// The two header rows: what runs and how fast, then the upstream's use of its limits.
enum HeaderView {
    static func render(_ state: DashboardState, _ snapshot: FleetSnapshot, into grid: inout Grid,
                       header: Rect, upstream: Rect, context: ViewContext) {
        let palette = context.palette, g = context.glyphs
        var x = header.x + 1
        // Items that do not fit whole are left out rather than cut.
        func put(_ text: String, _ style: Style, gap: Int = 2) {
            guard x + CellWidth.of(text) <= header.maxX else { return }
            x += grid.put(text, x: x, y: header.y, style: style, maxWidth: header.maxX - x) + gap
        }
        if header.width >= 100 { put("bucketscope", palette.style(.title, .bold)) }
        // Live mode says so first, in reverse video: these are real tasks on the real clock.
        if snapshot.mode == .live { put(header.width >= 120 ? " LIVE: real tasks, real clock " : " LIVE ", palette.style(.warn, [.bold, .reverse])) }
        put(snapshot.scenario, palette.style(.mainFg, .bold))
        put("keying " + snapshot.keying.rawValue, palette.base)
        put(Format.clock(nanoseconds: snapshot.now), palette.base)
        put(snapshot.mode == .live ? (g.braille ? "×1" : "x1") : Format.speed(state.speed, times: g.braille ? "×" : "x"), palette.base)
        if state.paused {
            put(g.paused + " paused", palette.style(.warn, .bold))
        } else {
            put(g.running + " running", palette.style(.ok, .bold))
        }
        if !snapshot.noisyEnabled { put("noisy off", palette.style(.inactiveFg)) }
        if let r = snapshot.replicas {
            put(ReplicasView.headerItem(r, glyphs: g), r.overAdmission > 1.05 ? palette.style(.error, .bold) : palette.style(.hiFg))
        }
        if let factor = snapshot.tuningFactor {
            put("tuning " + (g.braille ? "×" : "x") + Format.oneDecimal(factor), palette.style(.hiFg))
        }
        let edit = state.applyToAll ? "edit: all keys" : "edit: selected"
        let editWidth = CellWidth.of(edit)
        if x + editWidth < header.maxX {
            grid.put(edit, x: header.maxX - editWidth - 1, y: header.y,
                     style: state.applyToAll ? palette.style(.warn, .bold) : palette.style(.inactiveFg))
        }
        renderUpstream(snapshot.upstream, into: &grid, at: upstream, context: context)
    }

    static func renderUpstream(_ up: UpstreamSnapshot, into grid: inout Grid, at rect: Rect, context: ViewContext) {
        let palette = context.palette
        var x = rect.x + 1
        func put(_ text: String, _ style: Style, gap: Int = 1) {
            guard x + CellWidth.of(text) <= rect.maxX else { return }
            x += grid.put(text, x: x, y: rect.y, style: style, maxWidth: rect.maxX - x) + gap
        }
        put("upstream", palette.style(.inactiveFg))
        put(TextFit.truncate(up.name, to: max(8, rect.width / 5), ellipsis: context.glyphs.ellipsis), palette.style(.mainFg, .bold), gap: 2)
        let gaugeWidth = max(4, min(16, (rect.width - 64) / 2))
        func usage(_ label: String, used: Double, limit: Double?) {
            // All or nothing: a gauge without its numbers reads as broken.
            let numbers = limit.map { "\(Format.number(used))/\(Format.number($0))" } ?? "\(Format.number(used)) (no limit)"
            guard x + CellWidth.of(label) + 1 + gaugeWidth + 1 + CellWidth.of(numbers) <= rect.maxX else { return }
            put(label, palette.style(.inactiveFg))
            if let limit, limit > 0 {
                let f = used / limit
                if x + gaugeWidth < rect.maxX {
                    Gauge(fraction: f, glyphs: context.glyphs, fillStyle: { palette.gradient(.upstream, $0) })
                        .render(into: &grid, at: Rect(x: x, y: rect.y, width: gaugeWidth, height: 1))
                    x += gaugeWidth + 1
                }
                put("\(Format.number(used))/\(Format.number(limit))", f >= 1 ? palette.style(.error, .bold) : palette.base, gap: 2)
            } else {
                put("\(Format.number(used)) (no limit)", palette.base, gap: 2)
            }
        }
        usage("req/min", used: up.requestsLastMinute, limit: up.requestsPerMinute)
        if up.tokensPerMinute != nil {
            usage("tok/min", used: up.tokensLastMinute, limit: up.tokensPerMinute)
        }
        put("429", palette.style(.inactiveFg))
        put(Format.percent(up.rate429), up.rate429 > 0 ? palette.style(.error, .bold) : palette.style(.ok), gap: 2)
        // Label and number together or not at all: a bare "4" says nothing.
        let inFlight = Format.count(up.inFlight)
        if x + CellWidth.of("in flight") + 1 + CellWidth.of(inFlight) <= rect.maxX {
            put("in flight", palette.style(.inactiveFg))
            put(inFlight, palette.base)
        }
    }
}

/// The row above the hint bar: the edit form or the filter while typing, otherwise the last
/// message, otherwise any warning about the fleet.
enum StatusLine {
    static func render(_ state: DashboardState, _ snapshot: FleetSnapshot, into grid: inout Grid, at rect: Rect, context: ViewContext) {
        let palette = context.palette, g = context.glyphs
        let cursor = g.braille ? "▏" : "_"
        var x = rect.x + 1
        if case let .input(line)? = state.overlay {
            let who = line.targets.map { "\($0.count) keys" } ?? line.target ?? "all keys"
            x += grid.put("set \(who): ", x: x, y: rect.y, style: palette.style(.title, .bold))
            for field in [ValueField.capacity, .refill] {
                let active = line.field == field
                let text = field == .capacity ? line.capacity : line.refill
                x += grid.put(field == .capacity ? "capacity " : "  refill/s ", x: x, y: rect.y, style: palette.style(.inactiveFg))
                // The untouched value is shown reversed: typing replaces it.
                let style = active ? (line.untouched.contains(field) ? palette.style(.hiFg, [.bold, .reverse]) : palette.style(.hiFg, .bold))
                                   : palette.base
                x += grid.put(text, x: x, y: rect.y, style: style)
                if active { x += grid.put(cursor, x: x, y: rect.y, style: palette.style(.hiFg)) }
            }
            if let error = line.error {
                grid.put("  " + error, x: x, y: rect.y, style: palette.style(.error, .bold), maxWidth: rect.maxX - x)
            }
            return
        }
        if case .find? = state.overlay {
            x += grid.put("/", x: x, y: rect.y, style: palette.style(.title, .bold))
            x += grid.put(state.filter, x: x, y: rect.y, style: palette.style(.hiFg, .bold))
            x += grid.put(cursor, x: x, y: rect.y, style: palette.style(.hiFg))
            grid.put("  filter keys by name (Enter keeps it, Esc clears)", x: x, y: rect.y, style: palette.style(.inactiveFg),
                     maxWidth: rect.maxX - x)
            return
        }
        if let message = state.message {
            grid.put(TextFit.truncate(message.text, to: rect.width - 2, ellipsis: g.ellipsis),
                     x: rect.x + 1, y: rect.y, style: message.isError ? palette.style(.error, .bold) : palette.style(.inactiveFg))
            return
        }
        if let warning = FleetWarnings.all(snapshot).first {
            grid.put(TextFit.truncate(g.warning + " " + warning, to: rect.width - 2, ellipsis: g.ellipsis),
                     x: rect.x + 1, y: rect.y, style: palette.style(.warn, .bold))
        }
    }
}
