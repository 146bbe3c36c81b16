import Fleet

/// Colours and glyphs a frame is drawn with.
public struct ViewContext: Sendable {
    public var palette: Palette
    public var glyphs: Glyphs
    public init(palette: Palette, glyphs: Glyphs) { self.palette = palette; self.glyphs = glyphs }

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
        guard let layout = DashboardLayout(width: width, height: height, keyCount: snapshot.keys.count) else {
            SizeGate.render(into: &grid, width: width, height: height, context: context)
            return grid
        }
        HeaderView.render(state, snapshot, into: &grid, header: layout.header, upstream: layout.upstream, context: context)
        BucketTableView.render(state, snapshot, into: &grid, at: layout.table, context: context)
        drawRule(state, snapshot, layout, into: &grid, context: context)
        if let feed = state.compare {
            // The compare view takes the detail and isolation panes' place.
            let panes = Rect(x: 0, y: layout.detail.y, width: width, height: layout.detail.height)
            CompareView.render(feed, selected: state.selected(snapshot)?.key, into: &grid, at: panes, context: context)
        } else if let key = state.selected(snapshot) {
            DetailView.render(key, snapshot, baseline: state.baseline, into: &grid, at: layout.detail, context: context)
        } else {
            grid.put("no buckets yet", x: layout.detail.x + 1, y: layout.detail.y, style: palette.style(.inactiveFg))
        }
        if state.compare == nil {
            for y in layout.divider.y..<layout.divider.maxY {
                grid.put(context.glyphs.vertical, x: layout.divider.x, y: y, style: palette.style(.divLine))
            }
            IsolationView.render(snapshot, into: &grid, at: layout.isolation, context: context)
        }
        StatusLine.render(state, into: &grid, at: layout.status, context: context)
        HintBar.render(state, into: &grid, at: layout.hints, context: context)
        switch state.overlay {
        case .help?: HelpOverlay.render(state, into: &grid, context: context)
        case let .picker(picker)?: PickerOverlay.render(picker, into: &grid, context: context)
        case .input?, nil: break
        }
        return grid
    }

    /// The rule between the table and the panes, carrying the pane titles and the scroll position.
    static func drawRule(_ state: DashboardState, _ snapshot: FleetSnapshot, _ layout: DashboardLayout,
                         into grid: inout Grid, context: ViewContext) {
        let g = context.glyphs, palette = context.palette
        let rule = layout.rule
        grid.put(String(repeating: g.horizontal, count: rule.width), x: rule.x, y: rule.y, style: palette.style(.divLine))
        let junction = g.braille ? "┬" : "+"
        if state.compare == nil { grid.put(junction, x: layout.divider.x, y: rule.y, style: palette.style(.divLine)) }
        func title(_ text: String, _ pane: Pane, x: Int, width: Int) {
            let focused = state.focus == pane
            let style = focused ? palette.style(.title, [.bold, .reverse]) : palette.style(.title, .bold)
            grid.put(" " + TextFit.truncate(text, to: width - 4, ellipsis: g.ellipsis) + " ", x: x + 1, y: rule.y, style: style)
        }
        let selected = state.selected(snapshot)
        let detailTitle = selected.map { "\($0.key) \(g.bullet) \($0.group)" } ?? "detail"
        if state.compare != nil {
            title("compare algorithms (c closes)", .detail, x: layout.detail.x, width: layout.detail.width)
        } else {
            title(detailTitle, .detail, x: layout.detail.x, width: layout.detail.width)
            title("isolation", .isolation, x: layout.isolation.x, width: layout.isolation.width - 10)
        }
        let total = snapshot.keys.count, shown = layout.tableRows
        if total > shown {
            let below = max(0, total - state.scroll - shown)
            let text = " \(g.up)\(state.scroll) \(g.down)\(below) "
            grid.put(text, x: rule.maxX - CellWidth.of(text) - 1, y: rule.y, style: palette.style(.inactiveFg))
        }
    }
}
