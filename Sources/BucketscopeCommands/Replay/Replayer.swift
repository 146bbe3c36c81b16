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
    private(set) var rows = 0
    private var parser = ReplayParser()
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
        guard let row = try parser.parse(line: line, number: number) else { return }
        rows += 1
        let (time, cost, timeField, costField) = (row.time, row.cost, row.timeField, row.costField)
        let (c1, c2, keyStart, keyEnd) = (row.keyComma, row.costComma, row.keyStart, row.keyEnd)

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
}
