import Foundation

/// The rows of a `time_s,key,cost` log, parsed and checked one line at a time: `replay` and
/// `compare` read logs through it.
///
/// A UTF-8 byte-order mark may open the file. A first line whose time and cost fields are both
/// not numbers is the optional header; blank lines and `#` comments are skipped; times must not
/// go backwards. Times and costs are exact decimals in nanoseconds and nano-tokens, each checked
/// against its range (``Replayer/timeLimit``, ``Replayer/costRange``) as it is read.
struct ReplayParser {
    private var lastTime: Int64 = .min
    private var lastTimeText = ""
    private var sawData = false
    /// The optional header: a first line whose time and cost fields are both not numbers.
    private var sawHeader = false

    /// One data row: its values, and where its fields are in the line.
    struct ReplayRow {
        /// Arrival, ns.
        var time: Int64
        /// Cost, nano-tokens (up to 10^21: wider than `Int64`).
        var cost: Int128
        var timeField: UnsafeBufferPointer<UInt8>
        var costField: UnsafeBufferPointer<UInt8>
        /// The key's bytes are `keyStart..<keyEnd` of `line` (inside quotes when quoted).
        var line: UnsafeBufferPointer<UInt8>
        var keyStart: Int
        var keyEnd: Int
        /// Whether the quoted key holds `""` for a quote.
        var escapedQuotes: Bool
        /// The commas after the time and before the cost.
        var keyComma: Int
        var costComma: Int

        /// The key as a string, `""` unescaped.
        var key: String {
            let bytes = UnsafeBufferPointer(rebasing: line[keyStart..<keyEnd])
            let k = String(decoding: bytes, as: UTF8.self)
            return escapedQuotes ? k.replacingOccurrences(of: "\"\"", with: "\"") : k
        }
    }

    /// Parses one line; nil for a blank line, a comment or the header.
    /// - Throws: ``ReplayError`` naming the line, the column and its valid range.
    mutating func parse(line whole: UnsafeBufferPointer<UInt8>, number: Int) throws -> ReplayRow? {
        // A UTF-8 byte-order mark may open the file, before a header or a first row alike.
        var line = whole
        if number == 1, line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
            line = UnsafeBufferPointer(rebasing: line[3...])
        }
        // Skip blank lines and comments.
        var first = 0
        while first < line.count, line[first] == 32 || line[first] == 9 { first += 1 }
        if first == line.count || line[first] == UInt8(ascii: "#") { return nil }

        let fields = try split(line, number)
        let (c1, keyStart, keyEnd, c2) = (fields.firstComma, fields.keyStart, fields.keyEnd, fields.secondComma)
        let timeField = trim(line, 0, c1)
        let costField = trim(line, c2 + 1, line.count)

        let timeParsed = ScaledDecimal.parseNano(timeField, limit: Replayer.timeLimit)
        guard case .value(let time128) = timeParsed else {
            // A first line that is not a number is the optional header.
            if timeParsed == .invalid, !sawData, !sawHeader,
               ScaledDecimal.parseNano(costField, limit: Replayer.costLimit) == .invalid {
                sawHeader = true
                return nil
            }
            if timeParsed == .tooLarge {
                throw ReplayError(line: number, message: "time_s: must be at most 1e9 seconds (31.7 years), got \(text(timeField)) (valid: 0 to 1e9 seconds)")
            }
            throw ReplayError(line: number, message: "time_s: expected a number of seconds, got \(quoted(timeField))")
        }
        sawData = true
        let costParsed = ScaledDecimal.parseNano(costField, limit: Replayer.costLimit)
        let cost128: Int128
        switch costParsed {
        case .value(let v): cost128 = v
        case .tooLarge:
            throw ReplayError(line: number, message: "cost: must be at most 1e12, got \(text(costField)) (valid: \(Replayer.costRange))")
        case .invalid:
            throw ReplayError(line: number, message: "cost: expected a number of tokens, got \(quoted(costField))")
        }
        guard time128 >= 0 else {
            throw ReplayError(line: number, message: "time_s: must be >= 0, got \(text(timeField)) (valid: 0 to 1e9 seconds)")
        }
        guard cost128 > 0 else {
            let positive = costField.first != UInt8(ascii: "-") && costField.contains { $0 >= 49 && $0 <= 57 }
            throw ReplayError(line: number, message: positive
                ? "cost: must be at least 1e-9 (one nano-token, after rounding to the nearest), got \(text(costField)) (valid: \(Replayer.costRange))"
                : "cost: must be > 0, got \(text(costField)) (valid: \(Replayer.costRange))")
        }
        let time = Int64(time128)
        guard time >= lastTime else {
            throw ReplayError(line: number, message: "time_s: \(text(timeField)) is before the previous row's \(lastTimeText) (rows must be in time order)")
        }
        if time != lastTime {
            lastTime = time
            lastTimeText = text(timeField)
        }
        return ReplayRow(time: time, cost: cost128, timeField: timeField, costField: costField, line: line,
                         keyStart: keyStart, keyEnd: keyEnd, escapedQuotes: fields.escapedQuotes, keyComma: c1, costComma: c2)
    }

    // MARK: Field helpers

    /// Where the three fields of a row are: `time_s,key,cost`, the key optionally quoted as in
    /// CSV (`"a,b"`, with `""` for a quote inside).
    struct Fields {
        var firstComma: Int
        var keyStart: Int
        var keyEnd: Int
        var secondComma: Int
        var escapedQuotes: Bool
    }

    private func split(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws -> Fields {
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\"")
        guard let c1 = line.firstIndex(of: comma) else { throw fieldCount(line, number) }
        var keyStart = c1 + 1
        var keyEnd: Int
        var c2: Int
        var escaped = false
        var k = keyStart
        while k < line.count, line[k] == 32 || line[k] == 9 { k += 1 }
        if k < line.count, line[k] == quote {
            var q = k + 1
            while true {
                guard q < line.count else { throw ReplayError(line: number, message: "key: unterminated quote") }
                if line[q] == quote {
                    if q + 1 < line.count, line[q + 1] == quote {   // "" inside quotes: one quote
                        escaped = true
                        q += 2
                        continue
                    }
                    break
                }
                q += 1
            }
            keyStart = k + 1
            keyEnd = q
            var after = q + 1
            while after < line.count, line[after] == 32 || line[after] == 9 { after += 1 }
            guard after < line.count else { throw fieldCount(line, number) }
            guard line[after] == comma else {
                throw ReplayError(line: number, message: "key: expected a comma after the closing quote, got \(quoted(UnsafeBufferPointer(rebasing: line[after..<(after + 1)])))")
            }
            c2 = after
        } else {
            guard let c = UnsafeBufferPointer(rebasing: line[keyStart...]).firstIndex(of: comma) else { throw fieldCount(line, number) }
            keyEnd = keyStart + c
            c2 = keyEnd
        }
        if UnsafeBufferPointer(rebasing: line[(c2 + 1)...]).contains(comma) { throw fieldCount(line, number) }
        return Fields(firstComma: c1, keyStart: keyStart, keyEnd: keyEnd, secondComma: c2, escapedQuotes: escaped)
    }

    private func trim(_ line: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> UnsafeBufferPointer<UInt8> {
        var a = a, b = b
        while a < b, line[a] == 32 || line[a] == 9 { a += 1 }
        while b > a, line[b - 1] == 32 || line[b - 1] == 9 { b -= 1 }
        return UnsafeBufferPointer(rebasing: line[a..<b])
    }

    /// "expected 3 fields", counting commas outside quoted fields.
    private func fieldCount(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) -> ReplayError {
        var n = 1
        var inQuotes = false
        for b in line {
            if b == UInt8(ascii: "\"") { inQuotes.toggle() } else if b == UInt8(ascii: ","), !inQuotes { n += 1 }
        }
        return ReplayError(line: number, message: "expected 3 fields (time_s,key,cost), got \(n)")
    }

    private func text(_ field: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: field.prefix(40), as: UTF8.self) + (field.count > 40 ? "…" : "")
    }

    private func quoted(_ field: UnsafeBufferPointer<UInt8>) -> String {
        let s = String(decoding: field.prefix(40), as: UTF8.self)
        return field.isEmpty ? "nothing" : "\"\(s)\""
    }
}
