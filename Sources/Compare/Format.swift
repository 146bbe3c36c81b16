import TokenBucket

/// Numbers in tables: short, and the same in every output.
enum Format {
    /// A token amount or rate: whole numbers without a fraction, others with up to 3 decimals.
    static func amount(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        let s = String(format3(v))
        return s
    }

    /// Milliseconds with up to 3 decimals ("0", "12.5", "1030000").
    static func ms(_ ns: Int64) -> String { amount(Double(ns) / 1e6) }

    /// A duration for parameters: "500ms", "5s", "1m", "1.5s".
    static func duration(_ ns: Int64) -> String {
        if ns % 60_000_000_000 == 0, ns >= 60_000_000_000 { return "\(ns / 60_000_000_000)m" }
        if ns % 1_000_000 == 0, ns < 1_000_000_000 { return "\(ns / 1_000_000)ms" }
        return amount(Double(ns) / 1e9) + "s"
    }

    /// A percentage with up to 3 decimals.
    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "0" : amount(Double(part) * 100 / Double(whole))
    }

    private static func format3(_ v: Double) -> String {
        let scaled = (v * 1000).rounded()
        guard abs(scaled) < 9e15 else { return String(v) }
        let n = Int64(scaled)
        let sign = n < 0 ? "-" : ""
        let m = n.magnitude
        var frac = String(m % 1000)
        frac = String(repeating: "0", count: 3 - frac.count) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        return sign + String(m / 1000) + (frac.isEmpty ? "" : "." + frac)
    }
}
