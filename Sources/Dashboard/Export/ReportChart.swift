import Fleet

/// `run --format svg`: the run's time series as one standalone SVG chart, for sharing a finding
/// where a terminal is not: wait p99 per group, admitted per second per group, and the tokens of
/// the charted keys, over the snapshot's series window (one sample per `sampleInterval`).
///
/// ```swift
/// let fleet = try makeFleet(options)          // run it, then:
/// let svg = ReportChart.render(fleet.snapshot(), theme: ThemeCatalog.fallback)
/// ```
public enum ReportChart {
    public static let width = 900.0
    static let panelHeight = 200.0
    static let margin = (left: 64.0, right: 170.0, top: 44.0, gap: 46.0)
    /// Keys whose tokens are drawn (the busiest ones that have series).
    public static let chartedKeys = 4

    /// One line of a panel.
    struct Series {
        var name: String
        var samples: [Double]
        var colour: String
    }

    /// The keys whose tokens are charted: those with series, most waiters first, then by name.
    static func chartedKeys(_ snapshot: FleetSnapshot) -> [KeySnapshot] {
        let withSeries = snapshot.keys.filter { !$0.tokenSeries.isEmpty }
        return Array(withSeries.sorted { a, b in
            a.waiters != b.waiters ? a.waiters > b.waiters : NaturalOrder.less(a.key, b.key)
        }.prefix(chartedKeys))
    }

    public static func render(_ snapshot: FleetSnapshot, theme: Theme) -> String {
        let palette = Palette(theme: theme, depth: .truecolor)
        let fg = SVGText.hex(palette.color(.mainFg), fallback: ScreenSVG.defaultForeground)
        let bg = SVGText.hex(palette.color(.mainBg), fallback: ScreenSVG.defaultBackground)
        let muted = SVGText.hex(palette.color(.inactiveFg), fallback: "#808080")
        let keys: [ThemeKey] = [.quiet, .noisy, .tokensGraph, .admittedGraph, .queueGraph, .warn]
        func colour(_ i: Int) -> String { SVGText.hex(palette.color(keys[i % keys.count]), fallback: fg) }
        let groups = GroupMarks.shown(snapshot.groups)
        let panels: [(String, String, [Series], (Double) -> String)] = [
            ("wait p99 per group", "ms", groups.enumerated().map { Series(name: $1.name, samples: $1.p99Series, colour: colour($0)) },
             { Format.milliseconds($0) }),
            ("admitted per second per group", "req/s",
             groups.enumerated().map { Series(name: $1.name, samples: $1.throughputSeries, colour: colour($0)) }, { Format.number($0) }),
            ("tokens of the busiest keys", "tokens",
             chartedKeys(snapshot).enumerated().map { Series(name: $1.key, samples: $1.tokenSeries, colour: colour($0 + 2)) },
             { Format.compact($0) }),
        ]
        let n = SVGText.number
        let height = margin.top + Double(panels.count) * (panelHeight + margin.gap) + 10
        let seconds = Double(snapshot.sampleInterval) / 1e9
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))">
        <title>\(SVGText.escape("bucketscope \(snapshot.scenario), keying \(snapshot.keying.rawValue)"))</title>
        <style>text{font-family:"DejaVu Sans","Helvetica",sans-serif;font-size:12px}</style>
        <rect width="100%" height="100%" fill="\(bg)"/>
        <text x="\(n(margin.left))" y="24" fill="\(fg)" font-size="16" font-weight="bold">\(SVGText.escape("\(snapshot.scenario) · keying \(snapshot.keying.rawValue) · \(Format.clock(nanoseconds: snapshot.now)) simulated"))</text>

        """
        let plotWidth = width - margin.left - margin.right
        for (p, (title, unit, series, format)) in panels.enumerated() {
            let top = margin.top + Double(p) * (panelHeight + margin.gap) + 18
            let bottom = top + panelHeight - 18
            let samples = series.map(\.samples.count).max() ?? 0
            let maximum = BrailleChart.niceMaximum(series.flatMap(\.samples).max() ?? 0)
            out += "<text x=\"\(n(margin.left))\" y=\"\(n(top - 6))\" fill=\"\(fg)\" font-weight=\"bold\">\(SVGText.escape("\(title) (\(unit))"))</text>\n"
            // Axes with the scale and the time span labelled.
            out += "<polyline points=\"\(n(margin.left)),\(n(top)) \(n(margin.left)),\(n(bottom)) \(n(margin.left + plotWidth)),\(n(bottom))\" fill=\"none\" stroke=\"\(muted)\"/>\n"
            out += "<text x=\"\(n(margin.left - 6))\" y=\"\(n(top + 10))\" fill=\"\(muted)\" text-anchor=\"end\">\(SVGText.escape(format(maximum)))</text>\n"
            out += "<text x=\"\(n(margin.left - 6))\" y=\"\(n(bottom))\" fill=\"\(muted)\" text-anchor=\"end\">0</text>\n"
            let span = Double(max(0, samples - 1)) * seconds
            out += "<text x=\"\(n(margin.left))\" y=\"\(n(bottom + 15))\" fill=\"\(muted)\">\(SVGText.escape("−\(Format.seconds(span))"))</text>\n"
            out += "<text x=\"\(n(margin.left + plotWidth))\" y=\"\(n(bottom + 15))\" fill=\"\(muted)\" text-anchor=\"end\">now</text>\n"
            if series.allSatisfy({ $0.samples.isEmpty }) {
                out += "<text x=\"\(n(margin.left + plotWidth / 2))\" y=\"\(n((top + bottom) / 2))\" fill=\"\(muted)\" text-anchor=\"middle\">no data yet</text>\n"
            }
            for (i, s) in series.enumerated() {
                // Newest sample at the right edge, as on screen.
                let offset = samples - s.samples.count
                let step = samples > 1 ? plotWidth / Double(samples - 1) : 0
                let points = s.samples.enumerated().map { j, v in
                    let x = margin.left + Double(offset + j) * step
                    let y = bottom - (v.isFinite ? min(v, maximum) : 0) / maximum * (bottom - top)
                    return "\(n(x)),\(n(y))"
                }.joined(separator: " ")
                if !points.isEmpty {
                    out += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1.6\"/>\n"
                }
                let ly = top + 8 + Double(i) * 18
                out += "<rect x=\"\(n(margin.left + plotWidth + 14))\" y=\"\(n(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(s.colour)\"/>\n"
                out += "<text x=\"\(n(margin.left + plotWidth + 32))\" y=\"\(n(ly))\" fill=\"\(fg)\">\(SVGText.escape(s.name))</text>\n"
            }
        }
        out += "</svg>\n"
        return out
    }
}
