/// The screen as a standalone SVG, as Textual and rich save a terminal: one background rectangle
/// per run of same-coloured cells and one `<text>` per run of same-styled cells, on the cell grid,
/// with the theme's colours, so glyphs (braille, blocks) and colours read as on screen.
///
/// ```swift
/// let svg = ScreenSVG.render(grid, title: "bucketscope noisy-neighbor")
/// try svg.write(toFile: "screen.svg", atomically: true, encoding: .utf8)
/// ```
/// - Complexity: O(width × height).
public enum ScreenSVG {
    /// Cell size in SVG units (a 14-unit monospace font).
    public static let cellWidth = 8.4
    public static let cellHeight = 17.0
    public static let fontSize = 14.0
    /// Colours of the terminal's own foreground and background (themes that leave them unset).
    public static let defaultForeground = "#d0d0d0"
    public static let defaultBackground = "#1c1c1c"

    /// One run of cells that share a style, on one row.
    struct Run: Equatable {
        var x: Int
        var width: Int
        var text: String
        var style: Style
    }

    /// Runs of each row: neighbouring cells with the same style join; continuation cells (right
    /// halves of wide characters) extend the run without text.
    static func runs(_ grid: Grid) -> [[Run]] {
        (0..<grid.height).map { y in
            var runs: [Run] = []
            for x in 0..<grid.width {
                let cell = grid[x, y]
                if cell.isContinuation, !runs.isEmpty { runs[runs.count - 1].width += 1; continue }
                if let last = runs.last, last.style == cell.style {
                    runs[runs.count - 1].width += 1
                    runs[runs.count - 1].text += cell.text
                } else {
                    runs.append(Run(x: x, width: 1, text: cell.text, style: cell.style))
                }
            }
            return runs
        }
    }

    /// Foreground and background of a style as drawn (reverse video swaps them).
    static func colours(_ style: Style) -> (fg: String, bg: String) {
        let fg = SVGText.hex(style.fg, fallback: defaultForeground)
        let bg = SVGText.hex(style.bg, fallback: defaultBackground)
        return style.attributes.contains(.reverse) ? (bg, fg) : (fg, bg)
    }

    public static func render(_ grid: Grid, title: String) -> String {
        let w = Double(grid.width) * cellWidth, h = Double(grid.height) * cellHeight
        let n = SVGText.number
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(w))" height="\(n(h))" viewBox="0 0 \(n(w)) \(n(h))">
        <title>\(SVGText.escape(title))</title>
        <style>text{font-family:"DejaVu Sans Mono","Menlo","Consolas",monospace;font-size:\(n(fontSize))px;white-space:pre}</style>
        <rect width="100%" height="100%" fill="\(defaultBackground)"/>

        """
        let rows = runs(grid)
        // Backgrounds first (a run of cells with one background, whatever their text style).
        for (y, row) in rows.enumerated() {
            var merged: [(x: Int, width: Int, bg: String)] = []
            for run in row {
                let bg = colours(run.style).bg
                if let last = merged.last, last.bg == bg { merged[merged.count - 1].width += run.width } else { merged.append((run.x, run.width, bg)) }
            }
            for (x0, width, bg) in merged where bg != defaultBackground {
                out += "<rect x=\"\(n(Double(x0) * cellWidth))\" y=\"\(n(Double(y) * cellHeight))\" width=\"\(n(Double(width) * cellWidth))\" height=\"\(n(cellHeight))\" fill=\"\(bg)\"/>\n"
            }
        }
        for (y, row) in rows.enumerated() {
            for run in row where !run.text.allSatisfy({ $0 == " " }) {
                let (fg, _) = colours(run.style)
                var attributes = "x=\"\(n(Double(run.x) * cellWidth))\" y=\"\(n(Double(y) * cellHeight + fontSize))\" fill=\"\(fg)\""
                // textLength pins the run to its cells whatever the viewer's font.
                attributes += " textLength=\"\(n(Double(run.width) * cellWidth))\" lengthAdjust=\"spacingAndGlyphs\""
                if run.style.attributes.contains(.bold) { attributes += " font-weight=\"bold\"" }
                if run.style.attributes.contains(.dim) { attributes += " opacity=\"0.6\"" }
                if run.style.attributes.contains(.underline) { attributes += " text-decoration=\"underline\"" }
                out += "<text \(attributes) xml:space=\"preserve\">\(SVGText.escape(run.text))</text>\n"
            }
        }
        out += "</svg>\n"
        return out
    }

    /// The screen as plain text, one line per row, trailing blanks removed.
    public static func text(_ grid: Grid) -> String {
        grid.lines.map { line in
            var l = Substring(line)
            while l.last == " " { l.removeLast() }
            return String(l) + "\n"
        }.joined()
    }
}
