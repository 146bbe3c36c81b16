import Fleet
import Foundation
import TokenBucket

/// A line of `replay` input that cannot be read.
struct ReplayError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

/// Streams `time_s,key,cost` rows through the library's buckets and writes
/// `time_s,key,cost,admit_s,wait_s` rows: one shared `BucketState`, or (`perKey`) a
/// `KeyedBucketState` holding only the keys whose buckets are not full again, so a log of any
/// number of distinct keys replays in memory bounded by the keys active within one refill time.
///
/// Every column is checked against its range (``timeLimit``, ``costRange``) as it is read; an
/// admission instant past 2^63 ns (292 years) cannot be written exactly and stops the replay
/// with a message (it is never clamped).
///
/// Memory: the buckets (above) plus, with a summary, a few hundred bytes per distinct key
/// (``WaitDistribution``): never a row per input row.
struct Replayer {
    let configuration: BucketConfiguration
    let perKey: Bool
    let summary: Bool
    private var shared: BucketState
    private var keyed: KeyedBucketState<String>
    private var stats: [String: KeyStats] = [:]
    private var statsOrder: [String] = []
    private var lastTime: Int64 = .min
    private var lastTimeText = ""
    private var sawData = false
    /// The optional header: a first line whose time and cost fields are both not numbers.
    private var sawHeader = false
    private(set) var rows = 0
    private let capacityUnits: Int64

    /// Largest `time_s`: 10^9 s (31.7 years), in ns.
    static let timeLimit: Int128 = 1_000_000_000 * 1_000_000_000
    /// `cost` column range, tokens.
    static let costRange = InputLimits.cost
    static let costLimit: Int128 = 1_000_000_000_000 * 1_000_000_000

    struct KeyStats {
        var requests = 0
        var rejected = 0
        var waits = WaitDistribution()
    }

    init(configuration: BucketConfiguration, perKey: Bool, summary: Bool) {
        self.configuration = configuration
        self.perKey = perKey
        self.summary = summary
        shared = BucketState(configuration)
        keyed = KeyedBucketState(configuration)
        capacityUnits = TokenUnits.units(configuration.capacity)
    }

    /// Keys whose per-key bucket is held now (not yet full again).
    var heldKeys: Int { keyed.count }

    static let header: [UInt8] = Array("time_s,key,cost,admit_s,wait_s\n".utf8)

    /// Processes one input line; appends the output row (unless summarising) to `out`.
    mutating func process(line whole: UnsafeBufferPointer<UInt8>, number: Int, into out: inout [UInt8]) throws {
        // A UTF-8 byte-order mark may open the file, before a header or a first row alike.
        var line = whole
        if number == 1, line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
            line = UnsafeBufferPointer(rebasing: line[3...])
        }
        // Skip blank lines and comments.
        var first = 0
        while first < line.count, line[first] == 32 || line[first] == 9 { first += 1 }
        if first == line.count || line[first] == UInt8(ascii: "#") { return }

        let fields = try split(line, number)
        let (c1, keyStart, keyEnd, c2) = (fields.firstComma, fields.keyStart, fields.keyEnd, fields.secondComma)
        let timeField = trim(line, 0, c1)
        let costField = trim(line, c2 + 1, line.count)

        let timeParsed = ScaledDecimal.parseNano(timeField, limit: Self.timeLimit)
        guard case .value(let time128) = timeParsed else {
            // A first line that is not a number is the optional header.
            if timeParsed == .invalid, !sawData, !sawHeader,
               ScaledDecimal.parseNano(costField, limit: Self.costLimit) == .invalid {
                sawHeader = true
                return
            }
            if timeParsed == .tooLarge {
                throw ReplayError(line: number, message: "time_s: must be at most 1e9 seconds (31.7 years), got \(text(timeField)) (valid: 0 to 1e9 seconds)")
            }
            throw ReplayError(line: number, message: "time_s: expected a number of seconds, got \(quoted(timeField))")
        }
        sawData = true
        let costParsed = ScaledDecimal.parseNano(costField, limit: Self.costLimit)
        let cost128: Int128
        switch costParsed {
        case .value(let v): cost128 = v
        case .tooLarge:
            throw ReplayError(line: number, message: "cost: must be at most 1e12, got \(text(costField)) (valid: \(Self.costRange))")
        case .invalid:
            throw ReplayError(line: number, message: "cost: expected a number of tokens, got \(quoted(costField))")
        }
        guard time128 >= 0 else {
            throw ReplayError(line: number, message: "time_s: must be >= 0, got \(text(timeField)) (valid: 0 to 1e9 seconds)")
        }
        guard cost128 > 0 else {
            let positive = costField.first != UInt8(ascii: "-") && costField.contains { $0 >= 49 && $0 <= 57 }
            throw ReplayError(line: number, message: positive
                ? "cost: must be at least 1e-9 (one nano-token, after rounding to the nearest), got \(text(costField)) (valid: \(Self.costRange))"
                : "cost: must be > 0, got \(text(costField)) (valid: \(Self.costRange))")
        }
        let time = Int64(time128)
        guard time >= lastTime else {
            throw ReplayError(line: number, message: "time_s: \(text(timeField)) is before the previous row's \(lastTimeText) (rows must be in time order)")
        }
        if time != lastTime {
            lastTime = time
            lastTimeText = text(timeField)
        }
        rows += 1

        let keyBytes = UnsafeBufferPointer(rebasing: line[keyStart..<keyEnd])
        var key: String? = nil
        func keyString() -> String {
            if let key { return key }
            let k = fields.escapedQuotes ? String(decoding: keyBytes, as: UTF8.self).replacingOccurrences(of: "\"\"", with: "\"")
                                         : String(decoding: keyBytes, as: UTF8.self)
            key = k
            return k
        }

        var admit: Int64? = nil
        if cost128 <= Int128(capacityUnits) {   // above capacity: never admitted, `rejected`
            let cost = Int64(cost128)
            if perKey {
                // The keyed state takes a cost in tokens; check the nano-token count survives.
                let tokens = TokenUnits.tokens(cost)
                guard TokenUnits.units(tokens) == cost else {
                    throw ReplayError(line: number, message: "cost: \(text(costField)) has more significant digits than --per-key "
                                      + "carries exactly (about 15); round it")
                }
                admit = try keyed.reserve(tokens, for: keyString(), at: time).admitAt
            } else {
                admit = shared.reserve(units: cost, at: time).admitAt
            }
            if admit == .max {
                throw ReplayError(line: number, message: "admission instant past 9223372036.854775807 s (2^63 ns, 292 years), "
                                  + "which replay does not represent; raise --refill or lower the costs")
            }
        }

        if summary {
            let k = keyString()
            if stats[k] == nil {
                stats[k] = KeyStats()
                statsOrder.append(k)
            }
            stats[k]!.requests += 1
            if let admit {
                stats[k]!.waits.record(admit - time)
            } else {
                stats[k]!.rejected += 1
            }
            return
        }

        out.append(contentsOf: timeField)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: UnsafeBufferPointer(rebasing: line[(c1 + 1)...c2]))   // key as written, and the comma
        out.append(contentsOf: costField)
        out.append(UInt8(ascii: ","))
        if let admit {
            ScaledDecimal.appendNano(admit, to: &out)
            out.append(UInt8(ascii: ","))
            ScaledDecimal.appendNano(admit - time, to: &out)
        } else {
            out.append(contentsOf: Replayer.rejected)
        }
        out.append(10)
    }

    private static let rejected: [UInt8] = Array("rejected,rejected".utf8)

    /// The per-key summary table, in order of first appearance.
    func summaryTable() -> String {
        var rows: [[String]] = [["key", "requests", "rejected", "wait_p50_ms", "wait_p99_ms", "wait_max_ms"]]
        for k in statsOrder {
            let s = stats[k]!
            let admitted = s.requests - s.rejected
            func ms(_ ns: Int64) -> String { admitted == 0 ? "-" : formatMs(Double(ns) / 1e6) }
            rows.append([k, String(s.requests), String(s.rejected),
                         ms(s.waits.percentile(50)), ms(s.waits.percentile(99)), ms(s.waits.max)])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    private func formatMs(_ v: Double) -> String {
        let scaled = (v * 1000).rounded()
        let whole = Int64(scaled) / 1000, frac = Int64(scaled) % 1000
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: 3 - f.count) + f
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
