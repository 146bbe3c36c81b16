/// Exact parsing and printing of decimal numbers as scaled integers, so `replay` neither loses
/// precision on the way in (`0.1` seconds is exactly 100,000,000 ns) nor on the way out.
/// Rounding happens once, to the nearest nano-unit, halves up.
enum ScaledDecimal {
    /// What ``parseNano(_:limit:)`` read.
    enum Parsed: Equatable {
        /// The value × 10^9, rounded once to the nearest integer, halves up (away from zero).
        case value(Int128)
        /// A well-formed number whose magnitude × 10^9 exceeds the limit.
        case tooLarge
        /// Not a plain finite decimal number.
        case invalid
    }

    /// Parses `[+-]digits[.digits][e±digits]` into an integer scaled by 10^9. The text is read
    /// exactly, then rounded ONCE to the nearest nano-unit, halves up: `0.0000000015` and
    /// `15e-10` both give 2, `0.0000000014` gives 1. Returns `.tooLarge` when |x| × 10^9 would
    /// exceed `limit`, `.invalid` for anything that is not a plain finite decimal number.
    ///
    /// - Complexity: O(length of the text), no allocation.
    static func parseNano<C: Collection>(_ bytes: C, limit: Int128) -> Parsed where C.Element == UInt8 {
        var i = bytes.startIndex
        let end = bytes.endIndex
        guard i != end else { return .invalid }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i = bytes.index(after: i)
        }
        // The significant digits (leading zeros dropped), kept exactly up to 38 of them (10^38 − 1 fits an Int128): values
        // within any limit have at most 22 digits before the nano point, and only the first
        // digit after it matters for rounding half up.
        var significand: Int128 = 0
        var kept = 0
        var roundingDigit: Int64 = -1   // first significant digit beyond the kept ones, if any
        var integerDigits = 0           // significant digits before the decimal point
        var leadingFractionZeros = 0    // zeros right after the point before the first significant digit
        var sawDigit = false
        var sawPoint = false
        while i != end {
            let b = bytes[i]
            if b == UInt8(ascii: ".") {
                guard !sawPoint else { return .invalid }
                sawPoint = true
            } else if let d = digit(b) {
                sawDigit = true
                if significand == 0, kept == 0, d == 0 {
                    if sawPoint { leadingFractionZeros += 1 }
                } else {
                    if !sawPoint { integerDigits += 1 }
                    if kept < 38 {
                        significand = significand * 10 + Int128(d)
                        kept += 1
                    } else if roundingDigit < 0 {
                        roundingDigit = d
                    }
                }
            } else {
                break
            }
            i = bytes.index(after: i)
        }
        guard sawDigit else { return .invalid }
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
                if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
                i = bytes.index(after: i)
            }
            guard sawExp else { return .invalid }
            if expNegative { exponent = -exponent }
        }
        guard i == end else { return .invalid }
        if kept == 0 { return .value(0) }
        // value = 0.d1 d2 d3 … × 10^point, with the point after `point` digits.
        let point = (integerDigits > 0 ? integerDigits : -leadingFractionZeros) + exponent
        // Digits of the significand that land before the nano point.
        let shift = point + 9
        var result: Int128
        let digitsTotal = kept
        if shift >= digitsTotal {
            // Every kept digit is whole; pad with zeros (digits dropped beyond 40 would be
            // whole too: then the number is far above any limit).
            if roundingDigit >= 0, shift > digitsTotal { return .tooLarge }
            result = significand + (roundingDigit >= 5 ? 1 : 0)
            for _ in 0..<(shift - digitsTotal) {
                guard result <= limit else { return .tooLarge }
                result *= 10
            }
        } else if shift <= 0 {
            // Every digit is below one nano-unit; round on the first.
            let first = shift == 0 ? Int64(leadingDigit(significand, count: digitsTotal)) : 0
            result = first >= 5 ? 1 : 0
        } else {
            var divisor: Int128 = 1
            for _ in 0..<(digitsTotal - shift - 1) { divisor *= 10 }
            let q = significand / divisor
            result = q / 10 + (q % 10 >= 5 ? 1 : 0)
        }
        guard result <= limit else { return .tooLarge }
        return .value(negative ? -result : result)
    }

    /// The most significant of the `count` decimal digits of `x`.
    private static func leadingDigit(_ x: Int128, count: Int) -> Int128 {
        var v = x
        for _ in 0..<(count - 1) { v /= 10 }
        return v
    }

    /// ``parseNano(_:limit:)`` for values whose nano count fits in Int64; nil when invalid or
    /// too large.
    static func parseNano<C: Collection>(_ bytes: C) -> Int64? where C.Element == UInt8 {
        if case .value(let v) = parseNano(bytes, limit: Int128(Int64.max)) { return Int64(v) }
        return nil
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
