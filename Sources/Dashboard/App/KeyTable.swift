/// What a key does on the main screen.
public enum Action: Hashable, Sendable, CaseIterable {
    case quit, help
    case selectNext, selectPrevious, first, last, pageUp, pageDown, nextPane
    case cycleSort, reverseSort, filter, fold, unfold, foldAll, toggleTree
    case capacityUp, capacityDown, refillUp, refillDown, toggleApplyToAll, enterValue
    case cycleKeying, toggleNoisy, pickPreset
    case togglePause, step, slower, faster
    case cycleTheme, restart, saveScreen
    case toggleCompare
}

/// One row of the key table: the keys, what they do, and how the help and hint bar show them.
public struct KeyBinding: Sendable, Equatable {
    public var keys: [Key]
    public var action: Action
    /// The help's description.
    public var help: String
    /// The hint bar's word, nil to leave it out of the bar.
    public var hint: String?
    /// Hints with a lower rank survive on narrow terminals.
    public var hintRank: Int

    public init(_ keys: [Key], _ action: Action, help: String, hint: String? = nil, rank: Int = 9) {
        self.keys = keys; self.action = action; self.help = help; self.hint = hint; self.hintRank = rank
    }
}

/// The single key table: `update` looks keys up here and the help screen and hint bar are drawn
/// from it, so they cannot disagree.
public enum KeyTable {
    public static let bindings: [KeyBinding] = [
        KeyBinding([.char("q"), .ctrl("c")], .quit, help: "quit", hint: "quit", rank: 0),
        KeyBinding([.char("?"), .function(1)], .help, help: "help (any key closes it)", hint: "help", rank: 0),
        KeyBinding([.down, .char("j")], .selectNext, help: "next key", hint: "select", rank: 1),
        KeyBinding([.up, .char("k")], .selectPrevious, help: "previous key"),
        KeyBinding([.char("g"), .home], .first, help: "first row"),
        KeyBinding([.char("G"), .end], .last, help: "last row"),
        KeyBinding([.pageUp], .pageUp, help: "page up"),
        KeyBinding([.pageDown], .pageDown, help: "page down"),
        KeyBinding([.tab], .nextPane, help: "next pane (↑↓ scroll it)", hint: "pane", rank: 6),
        KeyBinding([.char("/")], .filter, help: "filter keys (Esc clears)", hint: "find", rank: 2),
        KeyBinding([.left, .char("h")], .fold, help: "fold tenant or group"),
        KeyBinding([.right, .char("l")], .unfold, help: "unfold tenant or group", hint: "fold", rank: 5),
        KeyBinding([.char("z")], .foldAll, help: "fold / unfold all"),
        KeyBinding([.char("T")], .toggleTree, help: "tree / flat table"),
        KeyBinding([.char("o")], .cycleSort, help: "sort by next column", hint: "sort", rank: 5),
        KeyBinding([.char("O")], .reverseSort, help: "reverse the sort"),
        KeyBinding([.char("+"), .char("=")], .capacityUp, help: "capacity ×1.25", hint: "cap", rank: 1),
        KeyBinding([.char("-")], .capacityDown, help: "capacity ÷1.25"),
        KeyBinding([.char("]")], .refillUp, help: "refill ×1.25", hint: "refill", rank: 1),
        KeyBinding([.char("[")], .refillDown, help: "refill ÷1.25"),
        KeyBinding([.char("a")], .toggleApplyToAll, help: "edit one key / all keys", hint: "all", rank: 3),
        KeyBinding([.enter], .enterValue, help: "set capacity and refill", hint: "set", rank: 4),
        KeyBinding([.char("s")], .cycleKeying, help: "next keying strategy", hint: "keying", rank: 2),
        KeyBinding([.char("n")], .toggleNoisy, help: "noisy neighbours on/off", hint: "noisy", rank: 2),
        KeyBinding([.char("p")], .pickPreset, help: "provider preset", hint: "preset", rank: 4),
        KeyBinding([.char(" ")], .togglePause, help: "pause / resume", hint: "pause", rank: 2),
        KeyBinding([.char(".")], .step, help: "step (while paused)", hint: "step", rank: 7),
        KeyBinding([.char("<")], .slower, help: "slower (live: ×1 only)"),
        KeyBinding([.char(">")], .faster, help: "faster (×0.1 … ×1000)", hint: "speed", rank: 3),
        KeyBinding([.char("t")], .cycleTheme, help: "next theme", hint: "theme", rank: 6),
        KeyBinding([.char("r")], .restart, help: "restart scenario", hint: "restart", rank: 5),
        KeyBinding([.char("S")], .saveScreen, help: "save screen (SVG, text)", hint: "save", rank: 7),
        KeyBinding([.char("c")], .toggleCompare, help: "compare rate limiters"),
    ]

    public static func action(for key: Key) -> Action? {
        bindings.first { $0.keys.contains(key) }?.action
    }

    public static func binding(for action: Action) -> KeyBinding? {
        bindings.first { $0.action == action }
    }

    /// How a binding's keys are written in the help: "q Ctrl-C".
    public static func label(_ binding: KeyBinding, glyphs: Glyphs) -> String {
        binding.keys.map { $0.label(glyphs) }.joined(separator: " ")
    }

    /// The hint bar's key label: paired actions are shown together ("+/-", "]/[", "</>").
    public static func hintLabel(_ binding: KeyBinding, glyphs: Glyphs) -> String {
        switch binding.action {
        case .selectNext: return glyphs.up + glyphs.down
        case .capacityUp: return "+-"
        case .refillUp: return "[]"
        case .faster: return "<>"
        case .unfold: return glyphs.braille ? "←→" : "h/l"
        case .enterValue: return glyphs.braille ? "⏎" : "Ent"
        case .togglePause: return glyphs.braille ? "␣" : "Spc"
        default: return binding.keys[0].label(glyphs)
        }
    }
}
