/// Refuses TOML that would make TOMLKit's bundled parser (toml++) abort the process instead of
/// reporting an error, before it is parsed.
///
/// toml++ checks some of its expectations with assertions (`TOML_ASSERT_ASSUME` in `toml.hpp`)
/// rather than errors; in the build TOMLKit ships they are live, so input that breaks one kills
/// the process with SIGABRT. Found by reading `toml.hpp` and by fuzzing (the corpus test in
/// `Tests/FleetTests/ScenarioFuzzTests.swift`):
///
/// - `parse_key()` asserts that a table header's key starts with a bare-key character
///   (`A-Z a-z 0-9 _ -`) or a quote: `[é]`, `[ \u{1}]`, `[[?x]]` or a lone `[` at the end of a
///   line abort (`toml.hpp`, `parse_table_header` → `parse_key`).
/// - `parse_value_known_prefixes()` asserts that a value does not start with a control
///   character. TOML allows no control characters other than tab, CR and LF anywhere (not even
///   in strings or comments), so every such file is refused here with its line.
///
/// Lines inside multi-line strings are not headers and are skipped. A line inside a multi-line
/// array that starts with `[` followed by `+` or `{` is refused too (the shield cannot tell it
/// from a header without parsing); scenario files have no such arrays.
///
/// ```swift
/// TOMLShield.refusal("[é]\n")   // (line: 1, message: "a table header must start with ...")
/// ```
enum TOMLShield {
    struct Refusal: Equatable {
        var line: Int
        var message: String
    }

    static func refusal(_ text: String) -> Refusal? {
        var line = 1
        var multiline: [UInt8]? = nil   // the open multi-line string delimiter, `"""` or `'''`
        var atLineStart = true
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 10 {
                line += 1
                atLineStart = true
                i += 1
                continue
            }
            if (b < 0x20 && b != 9 && b != 13) || b == 0x7F {
                return Refusal(line: line, message: "control character U+\(hex(b)) (TOML allows only tab, CR and LF)")
            }
            if let delimiter = multiline {
                if i + 2 < bytes.count, bytes[i] == delimiter[0], bytes[i + 1] == delimiter[1], bytes[i + 2] == delimiter[2] {
                    multiline = nil
                    i += 3
                } else {
                    i += 1
                }
                atLineStart = false
                continue
            }
            if atLineStart, b == 32 || b == 9 {   // indentation
                i += 1
                continue
            }
            if atLineStart, b == UInt8(ascii: "[") {
                if let problem = headerProblem(bytes, from: i) { return Refusal(line: line, message: problem) }
            }
            atLineStart = false
            if b == UInt8(ascii: "#") {   // a comment: skip to the end of the line
                while i < bytes.count, bytes[i] != 10 {
                    if (bytes[i] < 0x20 && bytes[i] != 9 && bytes[i] != 13) || bytes[i] == 0x7F {
                        return Refusal(line: line, message: "control character U+\(hex(bytes[i])) (TOML allows only tab, CR and LF)")
                    }
                    i += 1
                }
                continue
            }
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'"), i + 2 < bytes.count, bytes[i + 1] == b, bytes[i + 2] == b {
                multiline = [b, b, b]
                i += 3
                continue
            }
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {   // a one-line string: skip it
                i += 1
                while i < bytes.count, bytes[i] != b, bytes[i] != 10 {
                    if b == UInt8(ascii: "\""), bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] != 10 { i += 1 }
                    if (bytes[i] < 0x20 && bytes[i] != 9 && bytes[i] != 13) || bytes[i] == 0x7F {
                        return Refusal(line: line, message: "control character U+\(hex(bytes[i])) (TOML allows only tab, CR and LF)")
                    }
                    i += 1
                }
                if i < bytes.count, bytes[i] == b { i += 1 }
                continue
            }
            i += 1
        }
        return nil
    }

    /// What is wrong with the table header starting at `bytes[start]` (a `[`), if toml++ would
    /// abort on it.
    private static func headerProblem(_ bytes: [UInt8], from start: Int) -> String? {
        var i = start + 1
        if i < bytes.count, bytes[i] == UInt8(ascii: "[") { i += 1 }
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 { i += 1 }
        guard i < bytes.count else { return nil }   // end of file: toml++ reports it
        let c = bytes[i]
        if (c < 0x20 && c != 10 && c != 13) || c == 0x7F { return nil }   // the scan reports it as a control character
        let isBare = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
        if isBare || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "]") { return nil }
        let shown: String
        if c == 10 || c == 13 {
            shown = "the end of the line"
        } else {
            var end = i + 1
            while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }   // the whole UTF-8 character
            shown = "'" + String(decoding: bytes[i..<end], as: UTF8.self) + "'"
        }
        return "a table header must start with a letter, digit, _, - or a quote, got \(shown)"
    }

    private static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "00" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 15)])
    }
}
