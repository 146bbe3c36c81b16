/// Small pieces shared by the SVG writers: escaping and colours.
enum SVGText {
    /// `text` safe inside an XML element or a double-quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 allows no control characters but tab, newline and return.
                if ch.value < 0x20, ch != "\t", ch != "\n", ch != "\r" { continue }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// "#rrggbb" for a terminal colour; `fallback` for the terminal's own colour.
    static func hex(_ color: TerminalColor, fallback: String) -> String {
        switch color {
        case .terminalDefault: return fallback
        case let .rgb(r, g, b): return hex(r, g, b)
        case let .indexed(i):
            let (r, g, b) = rgb(ofIndex: Int(i))
            return hex(UInt8(r), UInt8(g), UInt8(b))
        }
    }

    static func hex(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "#" + [r, g, b].map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined()
    }

    /// The xterm palette: 16 ANSI colours, the 6×6×6 cube, 24 greys.
    static func rgb(ofIndex i: Int) -> (Int, Int, Int) {
        if i < 16 { let c = Palette.ansi[i]; return (Int(c.0), Int(c.1), Int(c.2)) }
        if i < 232 {
            let n = i - 16
            return (Palette.cubeLevels[n / 36], Palette.cubeLevels[(n / 6) % 6], Palette.cubeLevels[n % 6])
        }
        let v = 8 + 10 * (i - 232)
        return (v, v, v)
    }

    /// Numbers in SVG attributes: at most two decimals, no exponent.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let hundredths = Int((v * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let a = abs(hundredths)
        return a % 100 == 0 ? "\(sign)\(a / 100)" : a % 10 == 0 ? "\(sign)\(a / 100).\(a % 100 / 10)" : "\(sign)\(a / 100).\(a % 100 < 10 ? "0" : "")\(a % 100)"
    }
}
