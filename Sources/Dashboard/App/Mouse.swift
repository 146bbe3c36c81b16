import Fleet

/// A mouse event at a screen cell, decoded by the terminal backend (ncurses `getmouse`).
public struct MouseEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The left button went down (a click).
        case press
        case wheelUp, wheelDown
    }
    public var kind: Kind
    public var x: Int
    public var y: Int
    public init(_ kind: Kind, x: Int, y: Int) { self.kind = kind; self.x = x; self.y = y }
}

/// What a screen region does when clicked: views register these in the `Grid` they draw, so
/// the mouse acts on exactly what is drawn there.
public enum MouseTarget: Sendable, Equatable {
    /// A table row: select it.
    case row(RowID)
    /// A parent row's fold mark: fold or unfold it.
    case fold(RowID)
    /// A column title: sort by it (again: reverse).
    case sortColumn(SortColumn)
    /// A key in the hint bar: do what the key does.
    case action(Action)
    /// A pane: give it focus (and the wheel scrolls it).
    case pane(Pane)
}

/// A clickable rectangle of a frame.
public struct HitRegion: Sendable, Equatable {
    public var rect: Rect
    public var target: MouseTarget
    public init(_ rect: Rect, _ target: MouseTarget) { self.rect = rect; self.target = target }
}

extension DashboardState {
    /// Rows one wheel notch moves (htop and btop move three).
    static let wheelRows = 3

    /// Mouse input, as htop and btop: click a row to select it, its fold mark to fold it, a column
    /// title to sort by it, a key in the hint bar to press it; the wheel moves the selection (or
    /// scrolls the pane under the pointer). The frame is drawn (purely) to find what is where.
    mutating func handleMouse(_ event: MouseEvent, _ snapshot: FleetSnapshot) -> [Effect] {
        if overlay == .help { overlay = nil; return [] }
        guard overlay == nil else { return [] } // typing in a form: the keyboard decides
        let grid = DashboardView.render(self, snapshot, width: screenWidth, height: screenHeight,
                                        context: ViewContext(palette: Palette(theme: ThemeCatalog.fallback, depth: .none), glyphs: glyphs))
        // The innermost (last registered) region wins: a row inside the table pane.
        let targets = grid.regions.filter { $0.rect.contains(x: event.x, y: event.y) }.map(\.target)
        switch event.kind {
        case .wheelUp, .wheelDown:
            let down = event.kind == .wheelDown
            let pane: Pane = targets.lazy.compactMap { if case let .pane(p) = $0 { p } else { nil } }.last ?? .table
            if pane == .table {
                let saved = focus
                focus = .table
                for _ in 0..<Self.wheelRows { _ = perform(down ? .selectNext : .selectPrevious, snapshot) }
                focus = saved
            } else {
                paneScroll[pane] = max(0, (paneScroll[pane] ?? 0) + (down ? Self.wheelRows : -Self.wheelRows))
            }
            return []
        case .press:
            guard let target = targets.last else { return [] }
            switch target {
            case let .row(id):
                selection = id
                focus = .table
                keepSelectionVisible(snapshot)
            case let .fold(id):
                selection = id
                let model = model(snapshot)
                let open = model.rows.first { $0.id == id }?.parent?.expanded ?? false
                expanded[id] = !open
                keepSelectionVisible(snapshot)
            case let .sortColumn(column):
                if selection == nil { selection = selectedRow(model(snapshot), snapshot)?.id }
                sort = sort.column == column ? TableSort(column, descending: !sort.descending) : TableSort(column)
                message = StatusMessage("sorted by \(sort.label(glyphs))")
                keepSelectionVisible(snapshot)
            case let .action(action):
                return perform(action, snapshot)
            case let .pane(pane):
                focus = pane
            }
            return []
        }
    }
}
