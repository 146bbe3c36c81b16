/// A key press as the dashboard sees it, decoded by the terminal backend.
public enum Key: Hashable, Sendable {
    /// A printable character (including space).
    case char(Character)
    /// Ctrl plus a letter, lower case: Ctrl-C is `.ctrl("c")`.
    case ctrl(Character)
    case up, down, left, right
    case enter, tab, backTab, escape, backspace, delete
    case home, end, pageUp, pageDown
    /// F1...F12.
    case function(Int)

    /// How the help and the hint bar spell the key.
    public func label(_ glyphs: Glyphs) -> String {
        switch self {
        case .char(" "): return "Space"
        case let .char(c): return String(c)
        case let .ctrl(c): return "Ctrl-\(c.uppercased())"
        case .up: return glyphs.up
        case .down: return glyphs.down
        case .left: return glyphs.braille ? "←" : "<-"
        case .right: return glyphs.braille ? "→" : "->"
        case .enter: return "Enter"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .escape: return "Esc"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case let .function(n): return "F\(n)"
        }
    }
}
