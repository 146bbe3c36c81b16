import Compare
import Fleet

/// The compare view (`c`): the fleet's arrivals through every rate-limiting algorithm at once,
/// in place of the detail and isolation panes.
///
/// ```
///  compare · budget of user-1: 10 + 2/s → 10 per 5s, 2 in progress
///  arrivals: new requests per key each frame, spread evenly, cost 1
///  algorithm       state (user-1)  adm/s refused   p99  ▮ admitted  × refused   last 20s
///  token-bucket    ██████▌     65%   3.1      12     0  ▮▮ ▮ ▮▮×× ▮ ▮▮  ▮
/// ```
/// One row per algorithm: its limiter for the selected key as a gauge (tokens used, window
/// count, queue backlog, slots in use), admitted per second and p99 wait over the last 10 s
/// (all keys), refusals since the view opened, and a strip of the last seconds: a column per
/// half second, `×` when anything was refused in it, `▮` when requests were only admitted.
public enum CompareView {
    /// Simulated time per strip column.
    public static let columnBins = 5   // × CompareFeed.binWidth = 0.5 s

    public static func render(_ feed: CompareFeed, selected: String?, into grid: inout Grid, at rect: Rect,
                              context: ViewContext) {
        guard !rect.isEmpty else { return }
        let palette = context.palette, g = context.glyphs
        let dim = palette.style(.inactiveFg), base = palette.style(.mainFg)
        var y = rect.y
        func line(_ text: String, _ style: Style) {
            guard y < rect.maxY else { return }
            grid.put(TextFit.truncate(text, to: rect.width - 1, ellipsis: g.ellipsis), x: rect.x + 1, y: y, style: style)
            y += 1
        }
        let budget: String
        if let c = feed.comparison {
            let b = c.budget
            budget = "budget of \(feed.budgetKey ?? "?"): \(Format.number(feed.capacity)) + \(Format.number(feed.refill))/s "
                + "\(g.arrow) \(Algorithm.fixedWindow.parameters(b)), \(Algorithm.concurrency.parameters(b)) (1 s each)"
        } else {
            budget = feed.problem ?? "no budget"
        }
        line("compare \(g.bullet) \(budget)", palette.style(.title, .bold))
        line("arrivals: each key's new requests per frame, spread evenly over it, cost 1 (the snapshot has no arrival times)", dim)
        guard feed.comparison != nil else { return }

        let nameWidth = 16, gaugeWidth = 10
        let fixed = 1 + nameWidth + gaugeWidth + 5 + 7 + 8 + 7 + 2
        let columns = Swift.max(0, rect.width - fixed)
        let span = Double(columns * CompareView.columnBins) * Double(CompareFeed.binWidth) / 1e9
        let admitMark = g.braille ? "▮" : "|", refuseMark = g.braille ? "×" : "x"
        let stripTitle = columns >= 24 ? "\(admitMark) admitted \(refuseMark) refused, last \(Format.number(span))s" : ""
        let who = selected.map { "(\($0))" } ?? ""
        line(pad("algorithm", nameWidth) + pad("state " + who, gaugeWidth + 5) + left("adm/s", 7) + left("refused", 8)
             + left("p99", 7) + "  " + stripTitle, palette.style(.title))

        for (i, algorithm) in feed.algorithms.enumerated() where y < rect.maxY {
            var x = rect.x + 1
            x += grid.put(pad(algorithm.rawValue, nameWidth), x: x, y: y, style: base)
            let load = feed.load(i, key: selected)
            Gauge(fraction: load, style: base, glyphs: g, fillStyle: { palette.gradient(.fill, $0) })
                .render(into: &grid, at: Rect(x: x, y: y, width: gaugeWidth, height: 1))
            x += gaugeWidth
            x += grid.put(left("\(Int((load * 100).rounded()))%", 5), x: x, y: y, style: base)
            x += grid.put(left(Format.number(feed.admittedPerSecond(i)), 7), x: x, y: y, style: base)
            x += grid.put(left(String(feed.refused[i]), 8), x: x, y: y, style: feed.refused[i] > 0 ? palette.style(.warn) : base)
            x += grid.put(left(Format.milliseconds(Double(feed.p99Wait(i)) / 1e6), 7), x: x, y: y, style: base)
            x += 2
            for cell in feed.strip(i, count: columns, binsPer: CompareView.columnBins) {
                if cell.refused > 0 {
                    grid.put(refuseMark, x: x, y: y, style: palette.style(.error, .bold))
                } else if cell.admitted > 0 {
                    grid.put(admitMark, x: x, y: y, style: palette.style(.ok))
                }
                x += 1
            }
            y += 1
        }
        line("", dim)
        line("state: the selected key's limiter, share of its limit in use: bucket tokens used, window count, "
             + "queue backlog, slots in progress", dim)
        line("budget: the selected key's bucket; + - ] [ and Enter change it, and every row restarts on the new one", dim)
    }

    private static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? String(s.prefix(n - 1)) + " " : s + String(repeating: " ", count: n - s.count)
    }

    private static func left(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
    }
}
