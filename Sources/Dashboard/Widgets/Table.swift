/// A table column: its title, natural width, how it shares spare width, and when it is dropped.
public struct TableColumn: Sendable, Equatable {
    public var title: String
    public var width: Int
    /// Share of the spare width this column takes (0 = fixed width).
    public var flex: Int
    /// Columns with a higher number are dropped first when the table is too narrow (0 = never).
    public var dropOrder: Int
    public var alignRight: Bool

    public init(_ title: String, width: Int, flex: Int = 0, dropOrder: Int = 0, alignRight: Bool = false) {
        self.title = title; self.width = width; self.flex = flex; self.dropOrder = dropOrder; self.alignRight = alignRight
    }
}

/// One cell of a table row: text, or a widget drawn into the cell's rectangle.
public enum TableCell {
    case text(String, Style)
    case widget((inout Grid, Rect) -> Void)

    public static func text(_ s: String) -> TableCell { .text(s, .plain) }
}

/// A table of fixed-height (one row) records with a header, drawn column by column.
///
/// Columns keep their natural width; spare width goes to flexible columns; when the table is
/// narrower than the columns need, the columns with the highest `dropOrder` go first, then the
/// remaining text is truncated with an ellipsis.
public struct Table {
    public var columns: [TableColumn]
    public var rows: [[TableCell]]
    public var headerStyle: Style
    /// Row index drawn with `selectedStyle` over the whole row.
    public var selected: Int?
    public var selectedStyle: Style
    public var ellipsis: String
    /// Columns between cells.
    public var gap: Int

    public init(columns: [TableColumn], rows: [[TableCell]], headerStyle: Style = .plain, selected: Int? = nil,
                selectedStyle: Style = Style(attributes: .reverse), ellipsis: String = "…", gap: Int = 1) {
        self.columns = columns; self.rows = rows; self.headerStyle = headerStyle; self.selected = selected
        self.selectedStyle = selectedStyle; self.ellipsis = ellipsis; self.gap = gap
    }

    /// Width of each column in `total` columns, nil for a dropped column.
    public static func widths(of columns: [TableColumn], in total: Int, gap: Int = 1) -> [Int?] {
        // A column of width 0 that takes no spare width is hidden.
        var shown = columns.map { $0.width > 0 || $0.flex > 0 }
        func need() -> Int {
            let cols = zip(columns, shown).filter { $0.1 }.map { $0.0.width }
            return cols.reduce(0, +) + max(0, cols.count - 1) * gap
        }
        let order = columns.indices.filter { columns[$0].dropOrder > 0 }
            .sorted { columns[$0].dropOrder > columns[$1].dropOrder }
        for i in order where need() > total { shown[i] = false }
        var widths: [Int?] = columns.indices.map { shown[$0] ? columns[$0].width : nil }
        var spare = total - need()
        if spare < 0 {
            // Still too wide: shrink from the last shown column leftwards (truncation, not overlap).
            for i in columns.indices.reversed() where spare < 0 {
                guard let w = widths[i] else { continue }
                let cut = min(w - 1, -spare)
                widths[i] = w - cut; spare += cut
            }
        } else {
            let flexTotal = columns.indices.filter { shown[$0] }.reduce(0) { $0 + columns[$1].flex }
            if flexTotal > 0 {
                var given = 0
                let flexIdx = columns.indices.filter { shown[$0] && columns[$0].flex > 0 }
                for (n, i) in flexIdx.enumerated() {
                    let share = n == flexIdx.count - 1 ? spare - given : spare * columns[i].flex / flexTotal
                    widths[i]! += share; given += share
                }
            }
        }
        return widths
    }

    /// Draws the header in the first row of `rect` and up to `rect.height - 1` records below it.
    public func render(into grid: inout Grid, at rect: Rect) {
        guard !rect.isEmpty else { return }
        let widths = Table.widths(of: columns, in: rect.width, gap: gap)
        var x = rect.x
        var spans: [(Int, Int)?] = []
        for w in widths {
            guard let w else { spans.append(nil); continue }
            spans.append((x, w)); x += w + gap
        }
        for (i, column) in columns.enumerated() {
            guard let (cx, w) = spans[i] else { continue }
            grid.put(TextFit.pad(column.title, to: w, alignRight: column.alignRight, ellipsis: ellipsis),
                     x: cx, y: rect.y, style: headerStyle)
        }
        for (r, row) in rows.prefix(rect.height - 1).enumerated() {
            let y = rect.y + 1 + r
            let isSelected = r == selected
            if isSelected { grid.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), with: Cell(" ", style: selectedStyle)) }
            for (i, cell) in row.enumerated() where i < columns.count {
                guard let (cx, w) = spans[i] else { continue }
                switch cell {
                case let .text(s, style):
                    grid.put(TextFit.pad(s, to: w, alignRight: columns[i].alignRight, ellipsis: ellipsis),
                             x: cx, y: y, style: isSelected ? merge(style, selectedStyle) : style)
                case let .widget(draw):
                    draw(&grid, Rect(x: cx, y: y, width: w, height: 1))
                }
            }
        }
    }

    /// The selected row keeps a cell's own foreground but takes the selection background.
    private func merge(_ style: Style, _ selected: Style) -> Style {
        var s = selected
        if style.fg != .terminalDefault, selected.bg != .terminalDefault { s.fg = style.fg }
        s.attributes.formUnion(style.attributes)
        return s
    }
}
