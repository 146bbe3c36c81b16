/// Numbers in notes and reports.
///
/// ```swift
/// NumberText.short(2)            // "2"
/// NumberText.short(1.0499)       // "1.05"
/// NumberText.decimals(0.12345, 3) // "0.123"
/// NumberText.significant(20971.519, 3) // "21000"
/// ```
extension NumberText {
    /// Whole numbers without decimals; others with 1 decimal from 100 up, 2 from 1, 3 below.
    public static func short(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        if abs(x) >= 100 { return decimals(x, 1) }
        return decimals(x, abs(x) >= 1 ? 2 : 3)
    }

    /// `x` rounded to `places` decimals, without trailing ".0".
    public static func decimals(_ x: Double, _ places: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        var p = 1.0
        for _ in 0..<places { p *= 10 }
        let r = (x * p).rounded() / p
        guard abs(r) < 1e15 else { return String(r) }
        var s = String(r)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// `x` rounded to `digits` significant digits: what a histogram that keeps values to within
    /// 1 % can honestly say (a wait percentile of 20,971.519 ms is "21000").
    public static func roundedToSignificant(_ x: Double, _ digits: Int,
                                            rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let magnitude = Int((abs(x)).log10Floor)
        var scale = 1.0
        let shift = digits - 1 - magnitude
        for _ in 0..<abs(shift) { scale *= 10 }
        return shift >= 0 ? (x * scale).rounded(rule) / scale : (x / scale).rounded(rule) * scale
    }

    public static func significant(_ x: Double, _ digits: Int) -> String {
        short(roundedToSignificant(x, digits))
    }
}

extension Double {
    /// ⌊log10 |x|⌋ for finite non-zero x, without Foundation.
    fileprivate var log10Floor: Double {
        var m = 0.0
        var v = abs(self)
        while v >= 10 { v /= 10; m += 1 }
        while v < 1 { v *= 10; m -= 1 }
        return m
    }
}

/// Shorthands inside the fleet.
func fmt(_ x: Double) -> String { NumberText.short(x) }
func format1(_ x: Double, _ places: Int) -> String { NumberText.decimals(x, places) }
func grouped(_ n: Int) -> String { NumberText.grouped(n) }
