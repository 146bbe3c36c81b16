/// A colour as the terminal backend will set it, already degraded to what the terminal can show.
public enum TerminalColor: Hashable, Sendable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// An xterm palette index: 0–15 the ANSI colours, 16–231 the 6×6×6 cube, 232–255 greys.
    case indexed(UInt8)
    /// A 24-bit colour, for terminals that address colours directly.
    case rgb(UInt8, UInt8, UInt8)
}

/// Text attributes a cell can carry besides its colours.
public struct Attributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let dim = Attributes(rawValue: 2)
    public static let reverse = Attributes(rawValue: 4)
    public static let underline = Attributes(rawValue: 8)
}

/// How a cell is drawn: foreground, background and attributes.
public struct Style: Hashable, Sendable {
    public var fg: TerminalColor
    public var bg: TerminalColor
    public var attributes: Attributes

    public init(fg: TerminalColor = .terminalDefault, bg: TerminalColor = .terminalDefault,
                attributes: Attributes = []) {
        self.fg = fg; self.bg = bg; self.attributes = attributes
    }

    public static let plain = Style()

    public func with(_ extra: Attributes) -> Style {
        var copy = self; copy.attributes.formUnion(extra); return copy
    }
}
