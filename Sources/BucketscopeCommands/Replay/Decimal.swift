/// Exact parsing and printing of decimal numbers as scaled integers, so `replay` neither loses
/// precision on the way in (`0.1` seconds is exactly 100,000,000 ns) nor on the way out.
enum ScaledDecimal {
    /// Parses `[+-]digits[.digits][e±digits]` into an integer scaled by 10^9, exactly when the
    /// text has at most 9 decimals (further digits are rounded half up). Returns nil for
    /// anything that is not a plain finite decimal number, or out of range (|x| ≥ 10^10).
    static func parseNano<C: Collection>(_ bytes: C) -> Int64? where C.Element == UInt8 {
        var i = bytes.startIndex
        let end = bytes.endIndex
        guard i != end else { return nil }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i = bytes.index(after: i)
        }
        var whole: Int64 = 0
        var frac: Int64 = 0
        var fracDigits = 0
        var roundUp = false
        var sawDigit = false
        while i != end, let d = digit(bytes[i]) {
            sawDigit = true
            guard whole < 1_000_000_000 else { return nil }   // 10^9 s is 31 years: enough
            whole = whole * 10 + d
            i = bytes.index(after: i)
        }
        if i != end, bytes[i] == UInt8(ascii: ".") {
            i = bytes.index(after: i)
            while i != end, let d = digit(bytes[i]) {
                sawDigit = true
                if fracDigits < 9 {
                    frac = frac * 10 + d
                    fracDigits += 1
                } else if fracDigits == 9 {
                    roundUp = d >= 5
                    fracDigits += 1
                }
                i = bytes.index(after: i)
            }
        }
        guard sawDigit else { return nil }
        var exponent = 0
        if i != end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i = bytes.index(after: i)
            var expNegative = false
            if i != end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i = bytes.index(after: i)
            }
            var sawExp = false
            while i != end, let d = digit(bytes[i]) {
                sawExp = true
                guard exponent < 100 else { return nil }
                exponent = exponent * 10 + Int(d)
                i = bytes.index(after: i)
            }
            guard sawExp else { return nil }
            if expNegative { exponent = -exponent }
        }
        guard i == end else { return nil }
        if fracDigits < 9 {
            for _ in fracDigits..<9 { frac *= 10 }
        }
        var value = whole * 1_000_000_000 + frac + (roundUp ? 1 : 0)
        if exponent != 0 {
            // Rare in logs; go through Double-free integer scaling where it stays in range.
            if exponent > 0 {
                for _ in 0..<exponent {
                    let (m, o) = value.multipliedReportingOverflow(by: 10)
                    guard !o else { return nil }
                    value = m
                }
            } else {
                for _ in 0..<(-exponent) { value /= 10 }
            }
        }
        return negative ? -value : value
    }

    @inline(__always)
    static func digit(_ b: UInt8) -> Int64? {
        b >= 48 && b <= 57 ? Int64(b - 48) : nil
    }

    /// Appends `value / 10^9` with all nine decimals ("12.000000000").
    static func appendNano(_ value: Int64, to out: inout [UInt8]) {
        var v = value
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            v = -v
        }
        appendInteger(v / 1_000_000_000, to: &out)
        out.append(UInt8(ascii: "."))
        var frac = v % 1_000_000_000
        var digits = [UInt8](repeating: 48, count: 9)
        var k = 8
        while frac > 0 {
            digits[k] = UInt8(48 + frac % 10)
            frac /= 10
            k -= 1
        }
        out.append(contentsOf: digits)
    }

    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(48)
            return
        }
        var v = value
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while v > 0 {
                buf[n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            }
            for j in stride(from: n - 1, through: 0, by: -1) { out.append(buf[j]) }
        }
    }
}
