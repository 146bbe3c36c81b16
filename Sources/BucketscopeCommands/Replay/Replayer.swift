import Histogram
import TokenBucket

/// A line of `replay` input that cannot be read.
struct ReplayError: Error, CustomStringConvertible {
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

/// Streams `time_s,key,cost` rows through the library's `BucketState` and writes
/// `time_s,key,cost,admit_s,wait_s` rows: one shared bucket, or one per key.
///
/// Memory is one bucket per distinct key (one in all when shared) plus, with a summary, one
/// histogram per key: never a row per input row.
struct Replayer {
    let configuration: BucketConfiguration
    let perKey: Bool
    let summary: Bool
    private var shared: BucketState
    private var buckets: [String: BucketState] = [:]
    private var stats: [String: KeyStats] = [:]
    private var statsOrder: [String] = []
    private var lastTime: Int64 = .min
    private var lastTimeText = ""
    private var sawData = false
    /// The optional header: a first line whose time and cost fields are both not numbers.
    private var sawHeader = false
    private(set) var rows = 0
    private let capacityUnits: Int64

    struct KeyStats {
        var requests = 0
        var rejected = 0
        var waits = Histogram<UInt32>(numberOfSignificantValueDigits: .two)   // 1 % precision, ~20 KB per key
        var maxWait: Int64 = 0
        init() { waits.autoResize = true }
    }

    init(configuration: BucketConfiguration, perKey: Bool, summary: Bool) {
        self.configuration = configuration
        self.perKey = perKey
        self.summary = summary
        shared = BucketState(configuration)
        capacityUnits = TokenUnits.units(configuration.capacity)
    }

    static let header: [UInt8] = Array("time_s,key,cost,admit_s,wait_s\n".utf8)

    /// Processes one input line; appends the output row (unless summarising) to `out`.
    mutating func process(line: UnsafeBufferPointer<UInt8>, number: Int, into out: inout [UInt8]) throws {
        // Skip blank lines and comments.
        var first = 0
        while first < line.count, line[first] == 32 || line[first] == 9 { first += 1 }
        if first == line.count || line[first] == UInt8(ascii: "#") { return }

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
                return
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
        rows += 1

        let keyBytes = UnsafeBufferPointer(rebasing: line[keyStart..<keyEnd])
        var key: String? = nil
        func keyString() -> String {
            if let key { return key }
            let k = String(decoding: keyBytes, as: UTF8.self)
            key = k
            return k
        }

        var admit: Int64? = nil
        if cost <= capacityUnits {
            if perKey {
                let k = keyString()
                admit = buckets[k, default: BucketState(configuration)].reserve(units: cost, at: time).admitAt
            } else {
                admit = shared.reserve(units: cost, at: time).admitAt
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
                let wait = admit - time
                _ = stats[k]!.waits.record(UInt64(wait / 1000))   // microseconds
                stats[k]!.maxWait = max(stats[k]!.maxWait, wait)
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
            func ms(_ micros: UInt64) -> String { admitted == 0 ? "-" : formatMs(Double(micros) / 1000) }
            rows.append([k, String(s.requests), String(s.rejected),
                         ms(s.waits.valueAtPercentile(50)), ms(s.waits.valueAtPercentile(99)),
                         admitted == 0 ? "-" : formatMs(Double(s.maxWait) / 1e6)])
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
