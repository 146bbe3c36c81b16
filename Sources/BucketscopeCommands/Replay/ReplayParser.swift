/// The rows of a `time_s,key,cost` log, parsed and checked one line at a time: `replay` and
/// `compare` read logs through it.
///
/// A first line whose time and cost fields are both not numbers is the optional header; blank
/// lines and `#` comments are skipped; times must not go backwards. Times and costs are exact
/// decimals in nanoseconds and nano-tokens.
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
        /// Cost, nano-tokens.
        var cost: Int64
        var timeField: UnsafeBufferPointer<UInt8>
        var costField: UnsafeBufferPointer<UInt8>
        /// The key's bytes are `keyStart..<keyEnd` (inside quotes when quoted).
        var keyStart: Int
        var keyEnd: Int
        /// The commas after the time and before the cost.
        var keyComma: Int
        var costComma: Int
    }

    /// Parses one line; nil for a blank line, a comment or the header.
    /// - Throws: ``ReplayError`` naming the line and the field.
    mutating func parse(line: UnsafeBufferPointer<UInt8>, number: Int) throws -> ReplayRow? {
        // Skip blank lines and comments.
        var first = 0
        while first < line.count, line[first] == 32 || line[first] == 9 { first += 1 }
        if first == line.count || line[first] == UInt8(ascii: "#") { return nil }

        // Split into exactly three fields; the key may be quoted ("a,b").
        guard let c1 = firstComma(line, from: 0) else {
            throw fieldCount(line, number)
        }
        var keyStart = c1 + 1, keyEnd: Int
        var c2: Int
        if keyStart < line.count, line[keyStart] == UInt8(ascii: "\"") {
            guard let q = firstQuote(line, from: keyStart + 1) else {
                throw ReplayError(line: number, message: "key: unterminated quote")
            }
            keyStart += 1
            keyEnd = q
            guard q + 1 < line.count, line[q + 1] == UInt8(ascii: ",") else { throw fieldCount(line, number) }
            c2 = q + 1
        } else {
            guard let c = firstComma(line, from: keyStart) else { throw fieldCount(line, number) }
            keyEnd = c
            c2 = c
        }
        if firstComma(line, from: c2 + 1) != nil { throw fieldCount(line, number) }

        let timeField = trim(line, 0, c1)
        let costField = trim(line, c2 + 1, line.count)

        guard let time = ScaledDecimal.parseNano(timeField) else {
            // A first line that is not a number is the optional header.
            if !sawData, !sawHeader, ScaledDecimal.parseNano(costField) == nil {
                sawHeader = true
                return nil
            }
            throw ReplayError(line: number, message: "time_s: expected a number of seconds, got \(quoted(timeField))")
        }
        sawData = true
        guard let cost = ScaledDecimal.parseNano(costField) else {
            throw ReplayError(line: number, message: "cost: expected a number, got \(quoted(costField))")
        }
        guard time >= 0 else {
            throw ReplayError(line: number, message: "time_s must be >= 0, got \(String(decoding: timeField, as: UTF8.self))")
        }
        guard cost > 0 else {
            throw ReplayError(line: number, message: "cost must be > 0, got \(String(decoding: costField, as: UTF8.self))")
        }
        guard time >= lastTime else {
            throw ReplayError(line: number, message: "time goes backwards: \(String(decoding: timeField, as: UTF8.self)) after \(lastTimeText)")
        }
        if time != lastTime {
            lastTime = time
            lastTimeText = String(decoding: timeField, as: UTF8.self)
        }
        return ReplayRow(time: time, cost: cost, timeField: timeField, costField: costField,
                         keyStart: keyStart, keyEnd: keyEnd, keyComma: c1, costComma: c2)
    }

    // MARK: Field helpers

    private func firstComma(_ line: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while i < line.count {
            if line[i] == UInt8(ascii: ",") { return i }
            i += 1
        }
        return nil
    }

    private func firstQuote(_ line: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while i < line.count {
            if line[i] == UInt8(ascii: "\"") { return i }
            i += 1
        }
        return nil
    }

    private func trim(_ line: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> UnsafeBufferPointer<UInt8> {
        var a = a, b = b
        while a < b, line[a] == 32 || line[a] == 9 { a += 1 }
        while b > a, line[b - 1] == 32 || line[b - 1] == 9 { b -= 1 }
        return UnsafeBufferPointer(rebasing: line[a..<b])
    }

    private func fieldCount(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) -> ReplayError {
        let n = line.reduce(1) { $1 == UInt8(ascii: ",") ? $0 + 1 : $0 }
        return ReplayError(line: number, message: "expected 3 fields (time_s,key,cost), got \(n)")
    }

    private func quoted(_ field: UnsafeBufferPointer<UInt8>) -> String {
        let s = String(decoding: field.prefix(40), as: UTF8.self)
        return field.isEmpty ? "nothing" : "\"\(s)\""
    }
}
