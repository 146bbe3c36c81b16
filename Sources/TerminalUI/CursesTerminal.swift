import CNcurses
import CTerminalSignals
import Dashboard
#if canImport(Glibc)
import Glibc
#endif

/// The real terminal: ncursesw set up for the dashboard, restored on every way out.
///
/// ```swift
/// let terminal = try CursesTerminal.start(environment: env)
/// defer { terminal.restore() }
/// ```
/// Only this type (and its cell sink) calls curses, always from the thread that created it.
public final class CursesTerminal: TerminalBackend {
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public let colorDepth: ColorDepth
    public let glyphs: Glyphs
    private let flusher = FrameFlusher()
    private var sink: CursesCellSink
    private var active = true
    private var lastSize: (Int, Int) = (0, 0)

    /// Escape sequences terminals (and tmux, test harnesses) send that terminfo may not list:
    /// the ANSI cursor-key form next to the application-mode one, and both F1 spellings.
    static let alternateKeys: [(String, Int32)] = [
        ("\u{1B}[A", KEY_UP), ("\u{1B}[B", KEY_DOWN), ("\u{1B}[C", KEY_RIGHT), ("\u{1B}[D", KEY_LEFT),
        ("\u{1B}OA", KEY_UP), ("\u{1B}OB", KEY_DOWN), ("\u{1B}OC", KEY_RIGHT), ("\u{1B}OD", KEY_LEFT),
        ("\u{1B}[H", KEY_HOME), ("\u{1B}[F", KEY_END), ("\u{1B}OH", KEY_HOME), ("\u{1B}OF", KEY_END),
        ("\u{1B}[1~", KEY_HOME), ("\u{1B}[4~", KEY_END), ("\u{1B}[5~", KEY_PPAGE), ("\u{1B}[6~", KEY_NPAGE),
        ("\u{1B}[Z", KEY_BTAB), ("\u{1B}OP", bs_key_f(1)), ("\u{1B}[11~", bs_key_f(1)), ("\u{1B}[[A", bs_key_f(1)),
    ]

    /// Takes over the terminal. Call `restore()` when done (it is also called on stop and crash
    /// signals).
    public static func start(environment: [String: String]) throws -> CursesTerminal {
        setlocale(LC_ALL, "")
        let utf8 = bs_locale_is_utf8() != 0
        guard bs_newterm() != nil else {
            throw StartError(description: "cannot start curses for TERM=\(environment["TERM"] ?? "(unset)")")
        }
        return CursesTerminal(utf8: utf8, environment: environment)
    }

    private init(utf8: Bool, environment: [String: String]) {
        bs_signals_install(endwin)
        _ = raw()            // Ctrl-C arrives as a key, so it quits like q
        _ = noecho()
        _ = nonl()
        _ = keypad(bs_stdscr(), true)
        _ = set_escdelay(25)
        _ = curs_set(0)
        _ = leaveok(bs_stdscr(), true)
        for (sequence, code) in CursesTerminal.alternateKeys { _ = define_key(sequence, code) }
        // Clicks and the wheel, as htop and btop take them (Shift-drag still selects text).
        if environment["BUCKETSCOPE_NO_MOUSE"] == nil { bs_mouse_enable() }
        let hasColors = has_colors()
        if hasColors {
            _ = start_color()
            _ = use_default_colors()
        }
        colorDepth = ColorDepth.detect(environment: environment, terminalColors: Int(bs_colors()), hasColors: hasColors)
        glyphs = utf8 ? .unicode : .ascii
        sink = CursesCellSink(depth: colorDepth)
    }

    deinit { restore() }

    public var size: (width: Int, height: Int) { (Int(bs_cols()), Int(bs_lines())) }

    public var stopSignal: Int32? {
        let s = bs_signals_stop_signal()
        return s == 0 ? nil : s
    }

    public func nextInput(timeoutMilliseconds: Int) -> TerminalInput? {
        wtimeout(bs_stdscr(), Int32(max(0, min(timeoutMilliseconds, 60_000))))
        var ch: wint_t = 0
        let result = wget_wch(bs_stdscr(), &ch)
        if result == bs_err() { return nil }
        if result == bs_key_code_yes(), Int32(bitPattern: UInt32(ch)) == bs_key_mouse() {
            var x: Int32 = 0, y: Int32 = 0
            return MouseDecoder.decode(kind: bs_get_mouse(&x, &y), x: x, y: y)
        }
        let input = KeyDecoder.decode(UInt32(ch), isFunctionKey: result == bs_key_code_yes())
        if input == .resize { flusher.invalidate() }
        return input
    }

    public func paintBackground(_ style: Style) {
        sink.setBackground(style)
        // Repaint everything on the new background.
        flusher.invalidate()
        _ = clearok(bs_stdscr(), true)
    }

    public func draw(_ grid: Grid) {
        if (grid.width, grid.height) != lastSize {
            // New size: curses has resized stdscr; clear the real screen and repaint every cell.
            lastSize = (grid.width, grid.height)
            flusher.invalidate()
            _ = clearok(bs_stdscr(), true)
        }
        flusher.flush(grid, to: &sink)
    }

    /// Leaves curses mode: the terminal is back as it was. Idempotent.
    public func restore() {
        guard active else { return }
        active = false
        // Blank the alternate screen first: tmux, leaving it after the window grew, pulls the
        // alternate screen's top lines into the normal one (seen with tmux 3.3a).
        _ = werase(bs_stdscr())
        _ = wnoutrefresh(bs_stdscr())
        _ = doupdate()
        _ = curs_set(1)
        _ = endwin()
        bs_signals_uninstall()
    }
}
