import Foundation
import TokenBucket

/// Durations as people write them: `500ms`, `90s`, `10m`, `1h`, `1.5s`, `2m30s`; a bare number
/// is seconds.
///
/// ```swift
/// try DurationText.parse("90s")    // 90_000_000_000
/// ```
public enum DurationText {
    public static func parse(_ text: String) throws -> Nanoseconds {
        switch read(text) {
        case .success(let ns): return ns
        case .failure(let malformed): throw FleetError.invalid(malformed.description)
        }
    }

    /// `text` as a duration, or why it is not one (for a message that names where it came from:
    /// `--max-wait: -3s is negative; …`).
    public static func read(_ text: String) -> Result<Nanoseconds, Malformed> {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        func fail(_ reason: Malformed.Reason) -> Result<Nanoseconds, Malformed> { .failure(Malformed(text: text, reason: reason)) }
        guard !s.isEmpty else { return fail(.empty) }
        // "-3s" would otherwise read as "not a duration": say the actual problem.
        if s.hasPrefix("-"), case .success = read(String(s.dropFirst())) { return fail(.negative) }
        if let v = Double(s) { return nanos(v, 1e9, text) }
        var total: Double = 0
        var rest = Substring(s)
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            let unit = rest.dropFirst(num.count).prefix { $0.isLetter || $0 == "µ" }
            guard let v = Double(num) else { return fail(.notADuration) }
            guard !unit.isEmpty else { return fail(.numberWithoutUnit(String(num))) }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m", "min": scale = 60e9
            case "h": scale = 3600e9
            default: return fail(.unknownUnit(String(unit)))
            }
            total += v * scale
            rest = rest.dropFirst(num.count + unit.count)
        }
        return nanos(total, 1, text)
    }

    private static func nanos(_ v: Double, _ scale: Double, _ text: String) -> Result<Nanoseconds, Malformed> {
        let ns = v * scale
        guard ns.isFinite else { return .failure(Malformed(text: text, reason: .notADuration)) }
        guard ns >= 0 else { return .failure(Malformed(text: text, reason: .negative)) }
        guard ns < 9.2e18 else { return .failure(Malformed(text: text, reason: .tooLong)) }
        return .success(Nanoseconds(ns.rounded()))
    }

    /// Text that is not a duration, and why.
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public enum Reason: Sendable, Equatable {
            case empty
            /// `-3s`, `-1`: durations are 0 or more.
            case negative
            /// `3x`: a unit other than ns, us, ms, s, m (min) and h.
            case unknownUnit(String)
            /// `2m30`: a number after the first with no unit (a bare number alone is seconds).
            case numberWithoutUnit(String)
            /// `soon`, `nan`, `1.2.3s`.
            case notADuration
            /// 2^63 ns (292 years) or more.
            case tooLong
        }

        public let text: String
        public let reason: Reason

        /// What is wrong with the text, the text first: `-3s is negative`,
        /// `3x has an unknown unit "x"`, `"" is empty`.
        public var why: String {
            let shown = text.isEmpty || text.contains(" ") ? "\"\(text)\"" : text
            switch reason {
            case .empty: return "\(shown) is empty"
            case .negative: return "\(shown) is negative"
            case .unknownUnit(let u): return "\(shown) has an unknown unit \"\(u)\""
            case .numberWithoutUnit(let n): return "\(shown) has a number without a unit (\(n))"
            case .notADuration: return "\(shown) is not a duration"
            case .tooLong: return "\(shown) is too long"
            }
        }

        /// The message where the caller adds only a location (a scenario file's line).
        public var description: String {
            let examples = "such as 500ms, 90s, 10m or 1h"
            switch reason {
            case .empty, .notADuration: return "expected a duration \(examples), got \"\(text)\""
            case .negative: return "\"\(text)\" is negative: expected a duration of 0 or more, \(examples)"
            case .unknownUnit(let u): return "unknown duration unit \"\(u)\" in \"\(text)\" (use ms, s, m or h)"
            case .numberWithoutUnit(let n): return "\(n) has no unit in \"\(text)\": expected a duration \(examples)"
            case .tooLong: return "duration out of range: \"\(text)\""
            }
        }
    }

    /// `ns` rounded down to its largest whole unit (`222h`, `14m`, `3s`, `20ms`), for messages.
    public static func approximate(_ ns: Nanoseconds) -> String {
        for (unit, name) in [(Nanoseconds(3_600_000_000_000), "h"), (60_000_000_000, "m"), (1_000_000_000, "s"), (1_000_000, "ms")]
        where ns >= unit {
            return "\(ns / unit)\(name)"
        }
        return "\(ns)ns"
    }

    /// `90s`, `1.5s`, `500ms`, `10m`, `1h` — the shortest exact form.
    public static func format(_ ns: Nanoseconds) -> String {
        if ns % 3_600_000_000_000 == 0, ns > 0 { return "\(ns / 3_600_000_000_000)h" }
        if ns % 60_000_000_000 == 0, ns > 0 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
        return "\(ns)ns"
    }
}
