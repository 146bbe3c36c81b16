import Foundation

/// Waits within one sample interval, for a chart's p99 line: a fixed log-scale histogram
/// (four buckets per doubling, values within 19 %) that is cheap to record, read and clear, so a
/// dashboard running at ×1000 can sample every interval.
struct IntervalWaits: Sendable {
    private var counts = ContiguousArray<UInt32>(repeating: 0, count: 4 * 64)
    private(set) var total: UInt32 = 0

    @inline(__always)
    static func bucket(_ wait: Int64) -> Int {
        guard wait > 1000 else { return 0 }      // up to 1 µs
        let micros = Double(wait) / 1000
        return Swift.min(4 * 64 - 1, 1 + Int(log2(micros) * 4))
    }

    @inline(__always)
    mutating func record(_ wait: Int64) {
        counts[Self.bucket(wait)] &+= 1
        total &+= 1
    }

    /// The upper edge of the bucket holding the `percentile`-th wait, in milliseconds.
    func value(atPercentile percentile: Double) -> Double {
        guard total > 0 else { return 0 }
        let rank = UInt32((percentile / 100 * Double(total)).rounded(.up))
        var seen: UInt32 = 0
        for i in counts.indices {
            seen &+= counts[i]
            if seen >= Swift.max(rank, 1) {
                return i == 0 ? 0 : exp2(Double(i) / 4) / 1000
            }
        }
        return 0
    }

    mutating func reset() {
        guard total > 0 else { return }
        for i in counts.indices { counts[i] = 0 }
        total = 0
    }
}
