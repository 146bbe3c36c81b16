/// Short, fixed-precision number and duration formats, so columns stay narrow and golden
/// snapshots stay stable.
public enum Format {
    /// 0, 0.5, 12.3, 123, 1.2k, 45k, 1.2M: at most 4 characters for values below 10^9.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "-" : "∞" }
        let a = abs(v), sign = v < 0 ? "-" : ""
        func trim(_ x: Double, _ suffix: String) -> String {
            let s = x < 10 ? oneDecimal(x) : String(Int(x.rounded()))
            return sign + s + suffix
        }
        if a == 0 { return "0" }
        if a < 0.05 { return sign + "0" }
        if a < 10 { return sign + oneDecimal(a) }
        if a < 999.5 { return sign + String(Int(a.rounded())) }
        if a < 999_500 { return trim(a / 1000, "k") }
        if a < 999_500_000 { return trim(a / 1_000_000, "M") }
        return trim(a / 1_000_000_000, "G")
    }

    /// Three significant digits, so a value is never rounded past what tells it apart: 12.5
    /// stays 12.5 (not 13), 8,192 is 8.19k, 20,000 is 20k, 0.25 stays 0.25. At most 5 characters
    /// below 10^9.
    public static func compact(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "-" : "∞" }
        let a = abs(v), sign = v < 0 ? "-" : ""
        if a < 0.0005 { return "0" }
        func sig(_ x: Double, _ suffix: String) -> String {
            let decimals = x < 10 ? 2 : x < 100 ? 1 : 0
            return sign + trimmed(x, decimals: decimals) + suffix
        }
        if a < 1 { return sign + trimmed(a, decimals: 3) }
        if a < 999.5 { return sig(a, "") }
        if a < 999_500 { return sig(a / 1000, "k") }
        if a < 999_500_000 { return sig(a / 1_000_000, "M") }
        return sig(a / 1_000_000_000, "G")
    }

    /// A count as exact as fits in 5 characters: 7, 1234, 12.3k.
    public static func count(_ n: Int) -> String {
        abs(n) < 10_000 ? String(n) : compact(Double(n))
    }

    /// `x` with at most `decimals` decimals, trailing zeros dropped.
    static func trimmed(_ x: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let n = Int64((x * scale).rounded())
        var whole = String(n / Int64(scale))
        var frac = decimals > 0 ? String(n % Int64(scale)) : ""
        if decimals > 0 {
            frac = String(repeating: "0", count: decimals - frac.count) + frac
            while frac.hasSuffix("0") { frac.removeLast() }
        }
        if whole.isEmpty { whole = "0" }
        return frac.isEmpty ? whole : whole + "." + frac
    }

    /// One decimal, dropping ".0": 1, 1.5, 9.9.
    static func oneDecimal(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }

    /// Milliseconds as a short duration: 0, 12ms, 340ms, 1.8s, 12s, 3.2m.
    public static func milliseconds(_ ms: Double) -> String {
        guard ms.isFinite, ms > 0 else { return "0" }
        if ms < 0.5 { return "<1ms" }
        if ms < 999.5 { return "\(Int(ms.rounded()))ms" }
        return seconds(ms / 1000)
    }

    /// Seconds as a short duration: 0.4s, 12s, 3.2m, 1.5h.
    public static func seconds(_ s: Double) -> String {
        guard s.isFinite, s > 0 else { return "0s" }
        if s < 9.95 { return oneDecimal(s) + "s" }
        if s < 99.5 { return "\(Int(s.rounded()))s" }
        if s < 5940 { return oneDecimal(s / 60) + "m" }
        return oneDecimal(s / 3600) + "h"
    }

    /// A simulated clock: 00:01:23.4.
    public static func clock(nanoseconds: Int64) -> String {
        let tenths = max(0, nanoseconds) / 100_000_000
        let t = tenths % 10, s = (tenths / 10) % 60, m = (tenths / 600) % 60, h = tenths / 36000
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(h)):\(two(m)):\(two(s)).\(t)"
    }

    /// A fraction as a percentage: 0%, 2.1%, 84%.
    public static func percent(_ f: Double) -> String {
        guard f.isFinite else { return "-" }
        let p = f * 100
        if p == 0 { return "0%" }
        if p < 9.95 { return oneDecimal(p) + "%" }
        return "\(Int(p.rounded()))%"
    }

    /// A speed multiplier: ×0.1, ×1, ×20, ×1000.
    public static func speed(_ x: Double, times: String = "×") -> String {
        times + (x < 1 ? oneDecimal(x) : String(Int(x.rounded())))
    }

    /// A parameter value as typed: 12, 12.5, 3.125 (up to 3 decimals, no trailing zeros).
    public static func exact(_ v: Double) -> String {
        guard v.isFinite else { return number(v) }
        let thousandths = Int64((abs(v) * 1000).rounded())
        let whole = thousandths / 1000, frac = thousandths % 1000
        var text = String(whole)
        if frac != 0 {
            var digits = String(frac)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return (v < 0 && thousandths != 0 ? "-" : "") + text
    }
}
