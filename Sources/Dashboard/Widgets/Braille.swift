/// Plots series with braille characters: each cell holds 2 × 4 dots, so a chart `w` cells wide
/// shows 2w samples at 4 levels per cell row (DESIGN.md: `U+2800 | bits`).
///
/// ```swift
/// BrailleChart.rows(samples: [0, 1, 2, 4], width: 2, height: 1, maximum: 4)
/// // ["⢀⣼"]: bars 0, 1, 2 and 4 dots tall, bottom-aligned
/// ```
/// Values are drawn as bars from the bottom. A positive value is at least one dot tall, so a
/// trickle is visible; zero and missing samples are blank here (`Sparkline` and `Chart` draw a
/// dim baseline under zero samples, and say "no data yet" when there are none).
public enum BrailleChart {
    /// Dot bits, by column (0 left, 1 right) and dot row from the top (0...3).
    static let bits: [[UInt32]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    /// Dot height (0...4 × height) of each value against `maximum`.
    public static func levels(_ samples: [Double], height: Int, maximum: Double, dotsPerCell: Int = 4) -> [Int] {
        let top = height * dotsPerCell
        return samples.map { v in
            guard v.isFinite, v > 0, maximum > 0 else { return 0 }
            let n = Int((v / maximum * Double(top)).rounded())
            return min(top, max(1, n))
        }
    }

    /// The chart as `height` strings of `width` cells. The last `2 × width` samples are shown,
    /// right-aligned (newest at the right edge).
    public static func rows(samples: [Double], width: Int, height: Int, maximum: Double) -> [String] {
        guard width > 0, height > 0 else { return [] }
        let shown = Array(samples.suffix(width * 2))
        let lv = levels(shown, height: height, maximum: maximum)
        // Pad on the left so the newest sample is in the right column of the last cell.
        let padded = Array(repeating: 0, count: width * 2 - lv.count) + lv
        var rows: [String] = []
        for row in 0..<height {
            var line = ""
            // Dots this cell row covers, counted from the bottom of the chart.
            let rowBottom = (height - 1 - row) * 4
            for cell in 0..<width {
                var code: UInt32 = 0
                for col in 0..<2 {
                    let filled = min(4, max(0, padded[cell * 2 + col] - rowBottom))
                    for d in 0..<filled { code |= bits[col][3 - d] }
                }
                line += code == 0 ? " " : String(Character(Unicode.Scalar(0x2800 + code)!))
            }
            rows.append(line)
        }
        return rows
    }

    /// ASCII fallback: one sample per cell, two levels per cell (`lower`, `full`).
    public static func asciiRows(samples: [Double], width: Int, height: Int, maximum: Double,
                                 lower: String = ".", full: String = "|") -> [String] {
        guard width > 0, height > 0 else { return [] }
        let shown = Array(samples.suffix(width))
        let lv = levels(shown, height: height, maximum: maximum, dotsPerCell: 2)
        let padded = Array(repeating: 0, count: width - lv.count) + lv
        return (0..<height).map { row in
            let rowBottom = (height - 1 - row) * 2
            return padded.map { level -> String in
                let filled = level - rowBottom
                return filled >= 2 ? full : filled == 1 ? lower : " "
            }.joined()
        }
    }

    /// Either form, by glyph set.
    public static func rows(samples: [Double], width: Int, height: Int, maximum: Double, glyphs: Glyphs) -> [String] {
        glyphs.braille
            ? rows(samples: samples, width: width, height: height, maximum: maximum)
            : asciiRows(samples: samples, width: width, height: height, maximum: maximum,
                        lower: glyphs.asciiLevels[0], full: glyphs.asciiLevels[1])
    }

    /// When every sample shown is exactly zero, the cells that hold samples (a chart `width`
    /// cells wide, newest at the right): drawn as a baseline, so "zero all along" reads
    /// differently from "no sample yet" (blank). Any other series gets none (all false).
    public static func zeroCells(_ samples: [Double], width: Int, perCell: Int) -> [Bool] {
        guard width > 0 else { return [] }
        let shown = Array(samples.suffix(width * perCell))
        guard shown.allSatisfy({ $0 == 0 }) else { return Array(repeating: false, count: width) }
        let missing = width * perCell - shown.count
        return (0..<width).map { cell in
            var present = false
            for j in 0..<perCell {
                let i = cell * perCell + j - missing
                guard i >= 0 else { continue }
                if shown[i] != 0 { return false }
                present = true
            }
            return present
        }
    }

    /// The baseline glyph for zero cells.
    static func baselineGlyph(_ glyphs: Glyphs) -> String { glyphs.braille ? "⠤" : "_" }

    /// Draws the baseline into `row` (a chart's bottom row) over zero cells that are blank.
    static func drawBaseline(_ samples: [Double], into grid: inout Grid, x: Int, y: Int, width: Int, style: Style, glyphs: Glyphs) {
        for (i, zero) in zeroCells(samples, width: width, perCell: glyphs.braille ? 2 : 1).enumerated() where zero {
            if grid[x + i, y].text == " " { grid.put(baselineGlyph(glyphs), x: x + i, y: y, style: style) }
        }
    }

    /// A rounded-up axis maximum: 1, 2, 5, 10, 20, 50, ... at least `value` (and at least `floor`).
    public static func niceMaximum(_ value: Double, floor: Double = 1) -> Double {
        let v = max(value.isFinite ? value : 0, floor)
        var scale = 1.0
        while scale * 10 < v { scale *= 10 }
        while scale > v { scale /= 10 }
        for step in [1.0, 2, 5, 10] where step * scale >= v { return step * scale }
        return 10 * scale
    }
}

/// A one-row braille sparkline, for table cells.
public struct Sparkline: Sendable {
    public var samples: [Double]
    public var maximum: Double
    public var style: Style
    public var glyphs: Glyphs
    /// Style of the zero baseline (nil: the series' own style, dimmed).
    public var baseline: Style?
    /// Shown when there are no samples at all.
    public var emptyText: String

    public init(samples: [Double], maximum: Double? = nil, style: Style = .plain, glyphs: Glyphs = .unicode,
                baseline: Style? = nil, emptyText: String = "no data yet") {
        self.samples = samples; self.style = style; self.glyphs = glyphs
        self.maximum = maximum ?? BrailleChart.niceMaximum(samples.max() ?? 0)
        self.baseline = baseline; self.emptyText = emptyText
    }

    public func render(into grid: inout Grid, at rect: Rect) {
        guard !rect.isEmpty else { return }
        guard !samples.isEmpty else {
            grid.put(CellWidth.of(emptyText) <= rect.width ? emptyText : "-", x: rect.x, y: rect.y, style: (baseline ?? style).with(.dim),
                     maxWidth: rect.width)
            return
        }
        let row = BrailleChart.rows(samples: samples, width: rect.width, height: 1, maximum: maximum, glyphs: glyphs)
        grid.put(row.first ?? "", x: rect.x, y: rect.y, style: style, maxWidth: rect.width)
        BrailleChart.drawBaseline(samples, into: &grid, x: rect.x, y: rect.y, width: rect.width, style: (baseline ?? style).with(.dim),
                                  glyphs: glyphs)
    }
}

/// A chart with a title, its unit and a labelled scale on the left:
///
/// ```
/// tokens (tok)        last 30 s
///   20┤⣀⣀⣤⣤⣶⣶⣿⣿
///    0┤⣿⣿⣿⣿⣿⣿⣿⣿
/// ```
public struct Chart: Sendable {
    public var title: String
    public var unit: String
    public var samples: [Double]
    /// Seconds per sample, for the time label.
    public var secondsPerSample: Double
    public var maximum: Double
    public var style: Style
    public var labelStyle: Style
    public var glyphs: Glyphs
    public var format: @Sendable (Double) -> String
    /// Shown in the plot when there are no samples at all.
    public var emptyText: String

    public init(title: String, unit: String, samples: [Double], secondsPerSample: Double, maximum: Double? = nil,
                style: Style = .plain, labelStyle: Style = .plain, glyphs: Glyphs = .unicode, emptyText: String = "no data yet",
                format: @escaping @Sendable (Double) -> String = { Format.number($0) }) {
        self.emptyText = emptyText
        self.title = title; self.unit = unit; self.samples = samples; self.secondsPerSample = secondsPerSample
        self.maximum = maximum ?? BrailleChart.niceMaximum(samples.max() ?? 0)
        self.style = style; self.labelStyle = labelStyle; self.glyphs = glyphs; self.format = format
    }

    public func render(into grid: inout Grid, at rect: Rect) {
        guard rect.height >= 2, rect.width >= 8 else { return }
        let axis = max(CellWidth.of(format(maximum)), 1) + 1
        let plotWidth = rect.width - axis
        let plotHeight = rect.height - 1
        let perCell = glyphs.braille ? 2.0 : 1.0
        let span = Double(plotWidth) * perCell * secondsPerSample
        let heading = "\(title) (\(unit))"
        let spanText = "last \(Format.seconds(span))"
        grid.put(TextFit.pad(heading, to: rect.width), x: rect.x, y: rect.y, style: labelStyle, maxWidth: rect.width)
        if CellWidth.of(heading) + CellWidth.of(spanText) + 2 <= rect.width {
            grid.put(spanText, x: rect.maxX - CellWidth.of(spanText), y: rect.y, style: labelStyle.with(.dim))
        }
        let rows = BrailleChart.rows(samples: samples, width: plotWidth, height: plotHeight, maximum: maximum, glyphs: glyphs)
        for (i, row) in rows.enumerated() {
            let y = rect.y + 1 + i
            let label: String
            if i == 0 { label = format(maximum) } else if i == plotHeight - 1 { label = format(0) } else { label = "" }
            grid.put(TextFit.pad(label, to: axis - 1, alignRight: true), x: rect.x, y: y, style: labelStyle)
            grid.put(i == 0 || i == plotHeight - 1 ? glyphs.axisTick : glyphs.vertical,
                     x: rect.x + axis - 1, y: y, style: labelStyle.with(.dim))
            grid.put(row, x: rect.x + axis, y: y, style: style, maxWidth: plotWidth)
        }
        if samples.isEmpty {
            let text = emptyText
            grid.put(text, x: rect.x + axis + max(0, (plotWidth - CellWidth.of(text)) / 2), y: rect.y + 1 + (plotHeight - 1) / 2,
                     style: labelStyle.with(.dim), maxWidth: plotWidth)
        } else {
            BrailleChart.drawBaseline(samples, into: &grid, x: rect.x + axis, y: rect.y + plotHeight, width: plotWidth,
                                      style: style.with(.dim), glyphs: glyphs)
        }
    }
}
