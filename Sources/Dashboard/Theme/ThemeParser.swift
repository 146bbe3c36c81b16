/// Reads btop-style theme files (see `Theme`).
public enum ThemeParser {
    public struct Result: Sendable, Equatable {
        public var theme: Theme
        public var warnings: [ThemeWarning]
    }

    /// Parses `text`. Keys the file does not set come from `base` (the built-in default theme).
    ///
    /// - Throws: `ThemeError` naming `file` and the line for a malformed line or colour.
    public static func parse(_ text: String, name: String, file: String, base: Theme? = nil) throws(ThemeError) -> Result {
        var set: [ThemeKey: ThemeColor] = [:]
        var warnings: [ThemeWarning] = []
        var summary = ""
        var sawSetting = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingSpaces
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if !sawSetting, summary.isEmpty {
                    summary = String(line.dropFirst()).trimmingSpaces
                }
                continue
            }
            sawSetting = true
            let (key, value) = try setting(line, file: file, line: lineNumber)
            guard let themeKey = ThemeKey(rawValue: key) else {
                warnings.append(ThemeWarning(file: file, line: lineNumber, message: "unknown key '\(key)' (ignored)"))
                continue
            }
            set[themeKey] = try color(value, file: file, line: lineNumber)
        }
        if !sawSetting {
            throw ThemeError(file: file, line: 0, message: "no theme[...] settings found; is this a theme file?")
        }
        // A missing _mid sits halfway between the file's own _start and _end.
        for gradient in [ThemeGradient.fill, .upstream] {
            let (start, mid, end) = gradient.keys
            if set[mid] == nil, case let .rgb(r1, g1, b1)? = set[start], case let .rgb(r2, g2, b2)? = set[end] {
                set[mid] = .rgb(UInt8((Int(r1) + Int(r2)) / 2), UInt8((Int(g1) + Int(g2)) / 2), UInt8((Int(b1) + Int(b2)) / 2))
            }
        }
        var colors = base?.colors ?? [:]
        colors.merge(set) { _, new in new }
        return Result(theme: Theme(name: name, summary: summary, colors: colors), warnings: warnings)
    }

    /// Splits `theme[key]="value"` (spaces around `=` allowed, a trailing `# comment` too).
    static func setting(_ line: String, file: String, line number: Int) throws(ThemeError) -> (String, String) {
        func fail(_ why: String) -> ThemeError {
            ThemeError(file: file, line: number, message: "\(why): expected theme[key]=\"value\", got \(line)")
        }
        guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else { throw fail("not a setting") }
        let key = String(line[line.index(line.startIndex, offsetBy: 6)..<close]).trimmingSpaces
        guard !key.isEmpty else { throw fail("empty key") }
        var rest = Substring(line[line.index(after: close)...]).drop { $0 == " " || $0 == "\t" }
        guard rest.first == "=" else { throw fail("missing '='") }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard rest.first == "\"" else { throw fail("value must be in double quotes") }
        rest = rest.dropFirst()
        guard let end = rest.firstIndex(of: "\"") else { throw fail("unterminated quote") }
        let value = String(rest[..<end])
        let tail = rest[rest.index(after: end)...].trimmingSpaces
        guard tail.isEmpty || tail.hasPrefix("#") else { throw fail("unexpected text after the value") }
        return (key, value)
    }

    /// `"#RRGGBB"`, `"#GG"` (grey), `"R G B"` (decimal) or `""` (terminal default).
    public static func color(_ value: String, file: String, line: Int) throws(ThemeError) -> ThemeColor {
        let v = value.trimmingSpaces
        if v.isEmpty { return .terminalDefault }
        let bad = ThemeError(file: file, line: line,
                             message: "bad colour \"\(value)\": use \"#RRGGBB\", \"#GG\" (grey), \"R G B\" (0-255) or \"\" (terminal default)")
        if v.hasPrefix("#") {
            let hex = v.dropFirst()
            guard hex.allSatisfy(\.isHexDigit) else { throw bad }
            if hex.count == 2, let g = UInt8(hex, radix: 16) { return .rgb(g, g, g) }
            if hex.count == 6, let n = UInt32(hex, radix: 16) {
                return .rgb(UInt8(n >> 16), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF))
            }
            throw bad
        }
        let parts = v.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { throw bad }
        var rgb: [UInt8] = []
        for p in parts {
            guard let n = UInt8(p) else { throw bad }
            rgb.append(n)
        }
        return .rgb(rgb[0], rgb[1], rgb[2])
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
