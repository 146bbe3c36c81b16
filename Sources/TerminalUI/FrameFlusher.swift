import Dashboard

/// Where flushed cells go: curses in the program, a counter or recorder in tests.
public protocol CellSink {
    /// Draws `cell` at column `x`, row `y`. Never called for the right half of a wide character.
    mutating func write(_ cell: Cell, x: Int, y: Int)
    /// Ends the frame (curses: one `doupdate()`). Called only when something was written.
    mutating func commit()
}

/// Sends only the cells that differ from the previous frame to a sink.
///
/// ```swift
/// let flusher = FrameFlusher()
/// flusher.flush(grid, to: &sink)   // first frame: every cell
/// flusher.flush(grid, to: &sink)   // same frame again: 0 cells, no commit
/// ```
/// - Complexity: O(width × height) comparisons per frame; writes proportional to the change.
public final class FrameFlusher {
    private var previous: Grid?

    public init() {}

    /// Forgets the previous frame, so the next flush repaints everything (after a resize, or
    /// when something else may have drawn on the terminal).
    public func invalidate() { previous = nil }

    /// Returns the number of cells written.
    @discardableResult
    public func flush<Sink: CellSink>(_ grid: Grid, to sink: inout Sink) -> Int {
        let old = previous.flatMap { $0.width == grid.width && $0.height == grid.height ? $0 : nil }
        var written = 0
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let cell = grid[x, y]
                if cell.isContinuation { continue }
                // A wide character replaced by two narrow ones changes both cells (the right one was a
                // continuation), so both are rewritten.
                if let old, old[x, y] == cell { continue }
                sink.write(cell, x: x, y: y)
                written += 1
            }
        }
        if written > 0 { sink.commit() }
        previous = grid
        return written
    }
}
