import CNcurses
import Dashboard

/// Writes cells to curses' `stdscr` and ends each frame with one `doupdate()`.
struct CursesCellSink: CellSink {
    let depth: ColorDepth
    /// (fg, bg) curses colour numbers → pair number.
    private var pairs: [PairKey: Int32] = [:]
    private let maxPairs: Int32

    struct PairKey: Hashable { var fg: Int32, bg: Int32 }

    /// 8 on terminals with only the normal ANSI colours: bright ones (8-15) map to their normal half.
    private let colorCount: Int32

    init(depth: ColorDepth) {
        self.depth = depth
        maxPairs = depth == .none ? 0 : Int32(min(bs_color_pairs(), 32767))
        colorCount = bs_colors()
    }

    mutating func write(_ cell: Cell, x: Int, y: Int) {
        var wide: [wchar_t] = cell.text.unicodeScalars.prefix(4).map { wchar_t(bitPattern: $0.value) }
        if wide.isEmpty { wide = [32] }
        wide.append(0)
        var attrs = bs_a_normal()
        let a = cell.style.attributes
        if a.contains(.bold) { attrs |= bs_a_bold() }
        if a.contains(.dim) { attrs |= bs_a_dim() }
        if a.contains(.reverse) { attrs |= bs_a_reverse() }
        if a.contains(.underline) { attrs |= bs_a_underline() }
        var pair = self.pair(fg: cell.style.fg, bg: cell.style.bg)
        var cc = cchar_t()
        _ = setcchar(&cc, wide, attrs, 0, &pair)
        _ = mvwadd_wch(bs_stdscr(), Int32(y), Int32(x), &cc)
    }

    /// Sets stdscr's background (what curses clears with) to `style`'s colours.
    mutating func setBackground(_ style: Style) {
        var pair = self.pair(fg: style.fg, bg: style.bg)
        var cc = cchar_t()
        var blank: [wchar_t] = [32, 0]
        _ = setcchar(&cc, &blank, bs_a_normal(), 0, &pair)
        _ = wbkgrnd(bs_stdscr(), &cc)
    }

    mutating func commit() {
        _ = wnoutrefresh(bs_stdscr())
        _ = doupdate()
    }

    private func number(_ color: TerminalColor) -> Int32 {
        switch color {
        case .terminalDefault: return -1
        case let .indexed(i):
            guard colorCount < 16, i < 16, i >= 8 else { return Int32(i) }
            return i == 8 ? 7 : Int32(i - 8) // grey ("bright black") reads as light grey, not black
        // A direct-colour terminfo (COLORS = 2^24) takes the RGB value as the colour number.
        case let .rgb(r, g, b): return Int32(r) << 16 | Int32(g) << 8 | Int32(b)
        }
    }

    /// The colour pair for (fg, bg), defined on first use; pair 0 (terminal default) when the
    /// terminal has no colour or no pairs left.
    private mutating func pair(fg: TerminalColor, bg: TerminalColor) -> Int32 {
        guard depth != .none else { return 0 }
        let key = PairKey(fg: number(fg), bg: number(bg))
        if key.fg == -1, key.bg == -1 { return 0 }
        if let p = pairs[key] { return p }
        let next = Int32(pairs.count + 1)
        guard next < maxPairs else { return 0 }
        guard init_extended_pair(next, key.fg, key.bg) != bs_err() else { return 0 }
        pairs[key] = next
        return next
    }
}
