import Fleet

/// Colours and glyphs a frame is drawn with.
public struct ViewContext: Sendable {
    public var palette: Palette
    public var glyphs: Glyphs
    /// The keys' natural order kept between frames (nil: computed each frame).
    public var ranks: NameRanks?
    public init(palette: Palette, glyphs: Glyphs, ranks: NameRanks? = nil) { self.palette = palette; self.glyphs = glyphs; self.ranks = ranks }

    /// The built-in theme without colour and with Unicode glyphs: what golden snapshots use.
    public static let plain = ViewContext(palette: Palette(theme: ThemeCatalog.fallback, depth: .none), glyphs: .unicode)
}

/// Where each part of the screen goes at a given size.
public struct DashboardLayout: Equatable, Sendable {
    public static let minimumWidth = 64
    public static let minimumHeight = 20
    /// Rows that are not table or panes: header, upstream, column titles, rule, status, hints.
    static let fixedRows = 6
    static let minimumPaneRows = 10

    public var header: Rect
    public var upstream: Rect
    /// Column titles plus `tableRows` records.
    public var table: Rect
    public var rule: Rect
    public var detail: Rect
    public var isolation: Rect
    /// The column between detail and isolation.
    public var divider: Rect
    public var status: Rect
    public var hints: Rect

    public var tableRows: Int { max(0, table.height - 1) }

    /// Nil when the terminal is below the minimum size.
    public init?(width: Int, height: Int, keyCount: Int) {
        guard width >= DashboardLayout.minimumWidth, height >= DashboardLayout.minimumHeight else { return nil }
        let available = height - DashboardLayout.fixedRows
        let maxTable = available - DashboardLayout.minimumPaneRows
        // The table takes what its keys need (at least 3 rows); the panes get the rest, and never
        // fewer than `minimumPaneRows` (a long table scrolls instead).
        let paneRows = max(DashboardLayout.minimumPaneRows, available - max(3, keyCount))
        let tableRows = max(1, min(maxTable, available - paneRows))
        let panes = available - tableRows
        var rest = Rect(x: 0, y: 0, width: width, height: height)
        (header, rest) = rest.splitTop(1)
        (upstream, rest) = rest.splitTop(1)
        (table, rest) = rest.splitTop(1 + tableRows)
        (rule, rest) = rest.splitTop(1)
        var paneArea: Rect
        (paneArea, rest) = rest.splitTop(panes)
        (status, hints) = rest.splitTop(1)
        // Isolation needs about 31 columns; wider terminals give it 3/8 of the width.
        let isolationWidth = max(31, width * 3 / 8)
        let detailWidth = width - isolationWidth - 1
        (detail, paneArea) = paneArea.splitLeft(detailWidth)
        (divider, isolation) = paneArea.splitLeft(1)
    }
}

/// Draws one whole frame from the state and a fleet snapshot: the `view` of Model/Update/View.
public enum DashboardView {
    public static func render(_ state: DashboardState, _ snapshot: FleetSnapshot, width: Int, height: Int,
                              context: ViewContext = .plain) -> Grid {
        let palette = context.palette
        var grid = Grid(width: width, height: height, fill: Cell(" ", style: palette.base))
        let model = state.model(snapshot, ranks: context.ranks)
        guard let layout = DashboardLayout(width: width, height: height, keyCount: model.rows.count) else {
            SizeGate.render(into: &grid, width: width, height: height, context: context)
            paintBackground(&grid, palette)
            return grid
        }
        grid.regions += [HitRegion(layout.table, .pane(.table)), HitRegion(layout.detail, .pane(.detail)),
                         HitRegion(layout.isolation, .pane(.isolation))]
        let row = state.selectedRow(model, snapshot)
        HeaderView.render(state, snapshot, into: &grid, header: layout.header, upstream: layout.upstream, context: context)
        BucketTableView.render(state, snapshot, model: model, into: &grid, at: layout.table, context: context)
        drawRule(state, snapshot, model: model, row: row, layout, into: &grid, context: context)
        if let feed = state.compare {
            // The compare view takes the detail and isolation panes' place.
            let panes = Rect(x: 0, y: layout.detail.y, width: width, height: layout.detail.height)
            CompareView.render(feed, selected: state.selected(snapshot)?.key, into: &grid, at: panes, context: context)
        } else {
            PaneScroll.render(into: &grid, at: layout.detail, offset: state.paneScroll[.detail] ?? 0, contentHeight: DetailView.contentHeight,
                              fill: Cell(" ", style: palette.base)) { grid, rect in
                if let row, let ki = row.keyIndex {
                    DetailView.render(snapshot.keys[ki], snapshot, baseline: state.baseline, into: &grid, at: rect, context: context)
                } else if let row, let summary = row.parent {
                    DetailView.renderGroup(row.id.name, summary, snapshot, into: &grid, at: rect, context: context)
                } else {
                    grid.put("no buckets yet", x: rect.x + 1, y: rect.y, style: palette.style(.inactiveFg))
                }
            }
            for y in layout.divider.y..<layout.divider.maxY {
                grid.put(context.glyphs.vertical, x: layout.divider.x, y: y, style: palette.style(.divLine))
            }
            PaneScroll.render(into: &grid, at: layout.isolation, offset: state.paneScroll[.isolation] ?? 0,
                              contentHeight: IsolationView.contentHeight(snapshot) + ReplicasView.height(snapshot),
                              fill: Cell(" ", style: palette.base)) { grid, rect in
                // Replicas (when the scenario has them) above the groups.
                let (replicas, groups) = rect.splitTop(ReplicasView.height(snapshot))
                ReplicasView.render(snapshot, into: &grid, at: replicas, context: context)
                IsolationView.render(snapshot, into: &grid, at: groups, context: context)
            }
        }
        StatusLine.render(state, snapshot, into: &grid, at: layout.status, context: context)
        HintBar.render(state, into: &grid, at: layout.hints, context: context)
        switch state.overlay {
        case .help?: HelpOverlay.render(state, into: &grid, context: context)
        case let .picker(picker)?: PickerOverlay.render(picker, into: &grid, context: context)
        case .input?, .find?, nil: break
        }
        paintBackground(&grid, palette)
        return grid
    }

    /// A theme with `main_bg` paints every cell, as btop does: cells a widget left in the
    /// terminal's default colours take the theme's (a light theme on a dark terminal has no dark holes).
    static func paintBackground(_ grid: inout Grid, _ palette: Palette) {
        let base = palette.base
        guard base.bg != .terminalDefault else { return }
        grid.restyle(grid.bounds) { style in
            if style.bg == .terminalDefault { style.bg = base.bg }
            if style.fg == .terminalDefault { style.fg = base.fg }
        }
    }

    /// The rule between the table and the panes, carrying the pane titles and the scroll position.
    static func drawRule(_ state: DashboardState, _ snapshot: FleetSnapshot, model: TableModel, row: TableRow?,
                         _ layout: DashboardLayout, into grid: inout Grid, context: ViewContext) {
        let g = context.glyphs, palette = context.palette
        let rule = layout.rule
        grid.put(String(repeating: g.horizontal, count: rule.width), x: rule.x, y: rule.y, style: palette.style(.divLine))
        let junction = g.braille ? "┬" : "+"
        if state.compare == nil { grid.put(junction, x: layout.divider.x, y: rule.y, style: palette.style(.divLine)) }
        func title(_ text: String, _ pane: Pane, x: Int, width: Int) {
            let focused = state.focus == pane
            // A scrolled pane says by how many rows (↑/↓ scroll it while it has focus).
            let content = pane == .detail ? DetailView.contentHeight : IsolationView.contentHeight(snapshot) + ReplicasView.height(snapshot)
            let rect = pane == .detail ? layout.detail : layout.isolation
            let scrolled = min(state.paneScroll[pane] ?? 0, max(0, content - rect.height))
            let text = scrolled > 0 ? "\(text) \(g.up)\(scrolled)" : text
            let style = focused ? palette.style(.title, [.bold, .reverse]) : palette.style(.title, .bold)
            grid.put(" " + TextFit.truncate(text, to: width - 4, ellipsis: g.ellipsis) + " ", x: x + 1, y: rule.y, style: style)
        }
        let detailTitle: String
        if let row, let ki = row.keyIndex {
            detailTitle = "\(row.id.name) \(g.bullet) \(snapshot.keys[ki].group)"
        } else if let row {
            detailTitle = "group \(row.id.name)"
        } else {
            detailTitle = "detail"
        }
        if state.compare != nil {
            title("compare algorithms (c closes)", .detail, x: layout.detail.x, width: layout.detail.width)
        } else {
            title(detailTitle, .detail, x: layout.detail.x, width: layout.detail.width)
            title("isolation", .isolation, x: layout.isolation.x, width: layout.isolation.width - 10)
        }
        // Where the view is in the rows, and how many keys a filter lets through.
        let total = model.rows.count, shown = layout.tableRows
        var parts: [String] = []
        if !state.filter.isEmpty { parts.append("/\(state.filter): \(model.matchedKeys) of \(snapshot.keys.count) keys") }
        if total > shown {
            let top = BucketTableView.firstRow(state, rows: total, selected: state.selectedIndex(model, snapshot), visible: shown)
            parts.append("\(g.up)\(top) \(g.down)\(max(0, total - top - shown))")
        }
        if !parts.isEmpty {
            let text = " " + parts.joined(separator: "  ") + " "
            let x = max(layout.isolation.x + 12, rule.maxX - CellWidth.of(text) - 1)
            grid.put(text, x: x, y: rule.y, style: palette.style(.inactiveFg), maxWidth: rule.maxX - x)
        }
    }
}
