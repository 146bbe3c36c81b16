/// A pane whose content can be taller than its rectangle: drawn into a grid of the content's
/// height, and the rows from `offset` copied to the screen (↑/↓ move `offset` while the pane has
/// focus). A pane that fits draws directly, so scrolling costs nothing until it is needed.
enum PaneScroll {
    static func render(into grid: inout Grid, at rect: Rect, offset: Int, contentHeight: Int, fill: Cell,
                       _ draw: (inout Grid, Rect) -> Void) {
        guard !rect.isEmpty else { return }
        let height = max(rect.height, contentHeight)
        let top = min(max(0, offset), height - rect.height)
        guard top > 0 else { draw(&grid, rect); return }
        var tall = Grid(width: rect.width, height: height, fill: fill)
        draw(&tall, Rect(x: 0, y: 0, width: rect.width, height: height))
        for y in 0..<rect.height {
            for x in 0..<rect.width { grid[rect.x + x, rect.y + y] = tall[x, top + y] }
        }
    }
}
