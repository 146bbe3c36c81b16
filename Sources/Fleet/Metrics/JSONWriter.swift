/// A tiny JSON writer: fields in the order written, stable number formatting.
final class JSONWriter {
    private(set) var out = ""
    let pretty: Bool
    private var depth = 0
    private var needsComma = false

    init(pretty: Bool) { self.pretty = pretty }

    private func newline() {
        guard pretty else { return }
        out += "\n" + String(repeating: "  ", count: depth)
    }

    private func separator() {
        if needsComma { out += "," }
        newline()
    }

    func object(_ body: () -> Void) {
        out += "{"
        depth += 1; needsComma = false
        body()
        depth -= 1
        newline()
        out += "}"
        needsComma = true
    }

    func array<T>(_ items: [T], _ body: (T) -> Void) {
        out += "["
        depth += 1; needsComma = false
        for item in items { separator(); body(item) }
        depth -= 1
        if !items.isEmpty { newline() }
        out += "]"
        needsComma = true
    }

    func key(_ k: String) {
        separator()
        out += Self.quote(k) + (pretty ? ": " : ":")
    }

    func field(_ k: String, raw: String) { key(k); out += raw; needsComma = true }
    func field(_ k: String, string: String) { field(k, raw: Self.quote(string)) }
    func field(_ k: String, int: Int) { field(k, raw: String(int)) }
    func field(_ k: String, number: Double, decimals: Int = 3) { field(k, raw: Self.number(number, decimals)) }
    func field(_ k: String, _ body: () -> Void) { key(k); needsComma = false; body() }

    func waits(_ w: WaitPercentiles) {
        object {
            field("p50", number: w.p50)
            field("p90", number: w.p90)
            field("p99", number: w.p99)
            field("max", number: w.max)
            field("lower_bound", raw: w.lowerBound ? "true" : "false")
        }
    }

    /// A string as an array element.
    func value(string: String) {
        separator()
        out += Self.quote(string)
        needsComma = true
    }

    static func number(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "null" }
        return format1(x, decimals)
    }

    static func quote(_ s: String) -> String {
        var r = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\t": r += "\\t"
            default:
                if ch.value < 0x20 {
                    let hex = String(ch.value, radix: 16)
                    r += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else { r.unicodeScalars.append(ch) }
            }
        }
        return r + "\""
    }
}
