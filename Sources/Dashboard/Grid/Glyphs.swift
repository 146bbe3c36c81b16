/// The characters widgets draw with: Unicode block and braille glyphs, or plain ASCII when the
/// terminal's locale is not UTF-8 (ncursesw would print the Unicode ones as blanks there).
public struct Glyphs: Sendable, Equatable {
    /// Partial cells for gauges: index n-1 is n eighths full (index 7 is a full cell).
    public var eighths: [String]
    /// Whether charts use braille (2×4 dots per cell); ASCII charts use one sample per cell.
    public var braille: Bool
    /// ASCII chart levels, bottom half then full cell.
    public var asciiLevels: [String]
    public var horizontal: String
    public var vertical: String
    public var ellipsis: String
    public var selected: String
    public var queueFull: String
    public var queueEmpty: String
    public var running: String
    public var paused: String
    public var arrow: String
    public var up: String
    public var down: String
    public var axisTick: String
    public var quietMark: String
    public var noisyMark: String
    /// Between words in a title: "user-3 · quiet".
    public var bullet: String
    /// A parent row whose children are hidden / shown.
    public var folded: String = "▸"
    public var unfolded: String = "▾"
    /// Before a percentile that counts requests still waiting, so the true value can only be higher.
    public var atLeast: String = "≥"
    public var warning: String = "⚠"

    public static let unicode = Glyphs(
        eighths: ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"], braille: true, asciiLevels: [".", ":"],
        horizontal: "─", vertical: "│", ellipsis: "…", selected: "▶", queueFull: "■", queueEmpty: "·",
        running: "▶", paused: "‖", arrow: "→", up: "↑", down: "↓", axisTick: "┤",
        quietMark: "○", noisyMark: "●", bullet: "·")

    public static let ascii = Glyphs(
        eighths: [".", ".", ":", ":", "=", "=", "#", "#"], braille: false, asciiLevels: [".", "|"],
        horizontal: "-", vertical: "|", ellipsis: "~", selected: ">", queueFull: "#", queueEmpty: ".",
        running: ">", paused: "=", arrow: "->", up: "^", down: "v", axisTick: "+",
        quietMark: "o", noisyMark: "*", bullet: "/", folded: "+", unfolded: "-", atLeast: ">=", warning: "!")
}
