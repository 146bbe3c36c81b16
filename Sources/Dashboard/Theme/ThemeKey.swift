/// Every colour a theme can set. Names follow btop's style (`main_fg`, `_start/_mid/_end`
/// gradients) so its theme files read familiar.
public enum ThemeKey: String, CaseIterable, Sendable {
    case mainBg = "main_bg"
    case mainFg = "main_fg"
    /// Pane titles and the header's program name.
    case title
    /// Key letters in the hint bar and the help.
    case hiFg = "hi_fg"
    /// Secondary text: units, axis labels, column headers.
    case inactiveFg = "inactive_fg"
    /// Rules between panes.
    case divLine = "div_line"
    case selectedBg = "selected_bg"
    case selectedFg = "selected_fg"
    /// Bucket fill gauge, from empty (start) to full (end).
    case fillStart = "fill_start"
    case fillMid = "fill_mid"
    case fillEnd = "fill_end"
    /// Upstream usage against its limit, from idle (start) to at the limit (end).
    case upstreamStart = "upstream_start"
    case upstreamMid = "upstream_mid"
    case upstreamEnd = "upstream_end"
    /// Waiters bar in the table.
    case queue
    case tokensGraph = "tokens_graph"
    case queueGraph = "queue_graph"
    case admittedGraph = "admitted_graph"
    /// The isolation pane's two groups.
    case quiet
    case noisy
    case ok
    case warn
    case error
}

/// A gradient a theme defines with `_start`, optional `_mid` and `_end` keys.
public enum ThemeGradient: Sendable {
    case fill
    case upstream

    var keys: (ThemeKey, ThemeKey, ThemeKey) {
        switch self {
        case .fill: (.fillStart, .fillMid, .fillEnd)
        case .upstream: (.upstreamStart, .upstreamMid, .upstreamEnd)
        }
    }
}
