/// How the fleet writes numbers for people, one set of rules for messages, notes, tables, CSV
/// and JSON. (The report's rules are in `NumberText+Report.swift`.)
///
/// ```swift
/// NumberText.grouped(1234567)    // "1,234,567"
/// ```
///
/// Merge note: helper "inputs" declares this same enum (with `format`, `approximate` and the
/// same `grouped`) in `Scenario/ValidRange.swift`; with both branches merged, this file goes and
/// theirs stays.
public enum NumberText {
    /// Thousands separated by commas: `100000` → "100,000".
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }
}
