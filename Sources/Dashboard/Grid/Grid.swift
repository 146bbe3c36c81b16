/// One terminal cell: the text drawn there (one grapheme) and its style.
///
/// A wide character (width 2) is stored in its left cell; the cell to its right holds the empty
/// string as a continuation marker, which backends skip.
public struct Cell: Hashable, Sendable {
    public var text: String
    public var style: Style

    public init(_ text: String = " ", style: Style = .plain) {
        self.text = text; self.style = style
    }

    public static let blank = Cell()
    /// The right half of a wide character.
    public static let continuation = Cell("")
    public var isContinuation: Bool { text.isEmpty }
}

/// A rectangle on the grid, in cells.
public struct Rect: Hashable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(0, width); self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The row `dy` of this rectangle, one cell tall.
    public func row(_ dy: Int) -> Rect { Rect(x: x, y: y + dy, width: width, height: dy < height ? 1 : 0) }

    /// Splits off `n` rows from the top: (top, rest).
    public func splitTop(_ n: Int) -> (Rect, Rect) {
        let n = min(max(0, n), height)
        return (Rect(x: x, y: y, width: width, height: n), Rect(x: x, y: y + n, width: width, height: height - n))
    }

    /// Splits off `n` columns from the left: (left, rest).
    public func splitLeft(_ n: Int) -> (Rect, Rect) {
        let n = min(max(0, n), width)
        return (Rect(x: x, y: y, width: n, height: height), Rect(x: x + n, y: y, width: width - n, height: height))
    }

    public func inset(dx: Int, dy: Int) -> Rect {
        Rect(x: x + dx, y: y + dy, width: width - 2 * dx, height: height - 2 * dy)
    }
}

/// An in-memory screen: every widget draws here, and a backend flushes the cells that changed.
///
/// ```swift
/// var grid = Grid(width: 10, height: 1)
/// grid.put("tokens", x: 0, y: 0)
/// grid.lines == ["tokens    "]
/// ```
/// Writes outside the grid are clipped, so widgets never need to check bounds.
public struct Grid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// What the mouse does where (see `MouseTarget`), in drawing order: later regions lie on top.
    public var regions: [HitRegion] = []

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width); self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// The text of each row, wide characters once, for tests and golden files.
    public var lines: [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width { line += cells[y * width + x].text }
            return line
        }
    }

    /// Writes `text` from (x, y), at most `maxWidth` columns (default: to the grid's edge).
    /// Returns the number of columns written. A wide character that does not fit whole is
    /// replaced by a space.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return 0 }
        let limit = min(width, x + (maxWidth ?? width))
        var col = x
        for ch in text {
            let w = CellWidth.of(ch)
            if w == 0 { continue }
            if col + w > limit {
                if col < limit, col >= 0 { self[col, y] = Cell(" ", style: style); col += 1 }
                break
            }
            if col >= 0 {
                clearWideNeighbour(x: col, y: y)
                self[col, y] = Cell(String(ch), style: style)
                if w == 2 {
                    clearWideNeighbour(x: col + 1, y: y)
                    self[col + 1, y] = Cell("", style: style)
                }
            }
            col += w
        }
        return max(0, col - x)
    }

    /// Overwriting half of a wide character must blank its other half, or the terminal would
    /// show a dangling glyph.
    private mutating func clearWideNeighbour(x: Int, y: Int) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let cell = self[x, y]
        if cell.isContinuation, x > 0 {
            self[x - 1, y] = Cell(" ", style: self[x - 1, y].style)
        } else if CellWidth.of(cell.text) == 2, x + 1 < width {
            self[x + 1, y] = Cell(" ", style: self[x + 1, y].style)
        }
    }

    /// Fills a rectangle with one cell.
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { self[x, y] = cell }
        }
    }

    /// Changes the style of every cell in `rect`, keeping the text.
    public mutating func restyle(_ rect: Rect, _ change: (inout Style) -> Void) {
        for y in max(0, rect.y)..<min(height, rect.maxY) {
            for x in max(0, rect.x)..<min(width, rect.maxX) { change(&cells[y * width + x].style) }
        }
    }
}
