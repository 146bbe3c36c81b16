/// A colour as a theme file states it.
public enum ThemeColor: Hashable, Sendable {
    /// `""`: the terminal's own colour.
    case terminalDefault
    case rgb(UInt8, UInt8, UInt8)
}

/// A theme in btop's grammar, one setting a line:
///
/// ```
/// # Dark default: the built-in palette.
/// theme[main_fg]="#cdd6f4"      # 24-bit colour
/// theme[inactive_fg]="#80"      # grey level
/// theme[quiet]="86 180 233"     # decimal R G B
/// theme[main_bg]=""             # terminal default
/// ```
/// Keys a file leaves out take the built-in default's colour (a `_mid` left out sits halfway
/// between `_start` and `_end`); unknown keys are reported as warnings and ignored.
public struct Theme: Sendable, Equatable {
    public var name: String
    /// The file's first comment line, if any.
    public var summary: String
    public var colors: [ThemeKey: ThemeColor]

    public init(name: String, summary: String = "", colors: [ThemeKey: ThemeColor]) {
        self.name = name; self.summary = summary; self.colors = colors
    }

    public subscript(key: ThemeKey) -> ThemeColor { colors[key] ?? .terminalDefault }
}

/// A line of a theme file that cannot be used: the theme is rejected.
public struct ThemeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) { self.file = file; self.line = line; self.message = message }
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// A line of a theme file that was ignored: the theme still loads.
public struct ThemeWarning: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): warning: \(message)" }
}
