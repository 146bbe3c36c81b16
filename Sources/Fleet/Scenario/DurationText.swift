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
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else { throw FleetError.invalid("expected a duration such as 500ms, 90s, 10m or 1h, got \"\(text)\"") }
        if let v = Double(s) { return try nanos(v, 1e9, text) }
        var total: Double = 0
        var rest = Substring(s)
        while !rest.isEmpty {
            let num = rest.prefix { $0.isNumber || $0 == "." }
            let unit = rest.dropFirst(num.count).prefix { $0.isLetter || $0 == "µ" }
            guard let v = Double(num), !unit.isEmpty else {
                throw FleetError.invalid("expected a duration such as 500ms, 90s, 10m or 1h, got \"\(text)\"")
            }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m", "min": scale = 60e9
            case "h": scale = 3600e9
            default:
                throw FleetError.invalid("unknown duration unit \"\(unit)\" in \"\(text)\" (use ms, s, m or h)")
            }
            total += v * scale
            rest = rest.dropFirst(num.count + unit.count)
        }
        return try nanos(total, 1, text)
    }

    private static func nanos(_ v: Double, _ scale: Double, _ text: String) throws -> Nanoseconds {
        let ns = v * scale
        guard ns.isFinite, ns >= 0, ns < 9.2e18 else {
            throw FleetError.invalid("duration out of range: \"\(text)\"")
        }
        return Nanoseconds(ns.rounded())
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
