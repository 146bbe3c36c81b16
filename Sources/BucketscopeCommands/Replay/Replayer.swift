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
    private var parser = ReplayParser()
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
    mutating func process(line: UnsafeBufferPointer<UInt8>, number: Int, into out: inout [UInt8]) throws {
        guard let row = try parser.parse(line: line, number: number) else { return }
        let (time, cost128, timeField, costField) = (row.time, row.cost, row.timeField, row.costField)
        let (c1, c2) = (row.keyComma, row.costComma)
        let line = row.line
        rows += 1

        var key: String? = nil
        func keyString() -> String {
            if let key { return key }
            let k = row.key
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

    private func text(_ field: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: field.prefix(40), as: UTF8.self) + (field.count > 40 ? "…" : "")
    }
}
