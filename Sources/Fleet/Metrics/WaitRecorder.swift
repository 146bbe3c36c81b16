import Foundation
import Histogram

/// Wait times of one key or group: an HdrHistogram (microseconds, two significant digits) for
/// the percentiles, created only on the first non-zero wait, and a plain count of zero waits.
///
/// Most requests of a well-behaved client wait exactly zero; keeping them out of the histogram
/// keeps 10,000 idle keys at a few bytes each instead of kilobytes.
///
/// ```swift
/// var w = WaitRecorder()
/// w.record(0); w.record(2_500_000)      // nanoseconds
/// w.percentiles().p99                   // ≈ 2.5 (milliseconds)
/// ```
public struct WaitRecorder: Sendable {
    private var zeros: UInt64 = 0
    private var histogram: Histogram<UInt32>?
    /// Largest wait recorded, exact, in nanoseconds.
    public private(set) var maxNanoseconds: Int64 = 0

    public init() {}

    public var count: UInt64 { zeros + (histogram?.totalCount ?? 0) }

    /// Records one wait in nanoseconds (negative counts as zero).
    /// - Complexity: O(1), amortised (the histogram grows to the largest value seen).
    @inline(__always)
    public mutating func record(_ wait: Int64) {
        guard wait > 0 else { zeros &+= 1; return }
        if wait > maxNanoseconds { maxNanoseconds = wait }
        let micros = UInt64(Swift.max(1, (wait + 500) / 1000))
        if histogram == nil {
            // Sized for waits up to ~0.5 s at first (about 4 KB), growing on demand.
            var h = Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: 500_000, numberOfSignificantValueDigits: .two)
            h.autoResize = true
            histogram = h
        }
        histogram!.record(micros)
    }

    public mutating func reset() {
        zeros = 0; maxNanoseconds = 0
        histogram?.reset()
    }

    /// The wait at `percentile` (0–100), in milliseconds.
    public func value(atPercentile percentile: Double) -> Double {
        let total = count
        guard total > 0, let h = histogram, h.totalCount > 0 else { return 0 }
        let rank = percentile / 100 * Double(total)
        if rank <= Double(zeros) { return 0 }
        let inner = Swift.min(100, (rank - Double(zeros)) / Double(h.totalCount) * 100)
        let micros = h.valueAtPercentile(inner)
        return Swift.min(Double(micros) / 1000, Double(maxNanoseconds) / 1e6)
    }

    /// p50, p90, p99 and max, in milliseconds.
    public func percentiles() -> WaitPercentiles {
        WaitPercentiles(p50: value(atPercentile: 50), p90: value(atPercentile: 90),
                        p99: value(atPercentile: 99), max: Double(maxNanoseconds) / 1e6)
    }

    /// p50, p90, p99 and max counting also requests still waiting, each as the wait it has had
    /// so far (`pending`, nanoseconds): lower bounds when any is still waiting
    /// (``WaitPercentiles/lowerBound``). Right after a keying switch starves a group, this is
    /// what shows it: admitted requests alone would say "0".
    ///
    /// The recorded waits are not touched (a dashboard asks every frame, for thousands of keys):
    /// the rank of each percentile is found among the recorded waits and the sorted pending ones
    /// together.
    /// - Complexity: O(m log m + m × histogram buckets) for m pending waits; beyond 32 of them,
    ///   one copy of the histogram and m records instead.
    public func percentiles(includingPending pending: [Int64]) -> WaitPercentiles {
        guard !pending.isEmpty else { return percentiles() }
        if pending.count > 32, histogram != nil {
            var all = self
            for w in pending { all.record(w) }
            var p = all.percentiles()
            p.lowerBound = true
            return p
        }
        let sorted = pending.map { Swift.max(0, $0) }.sorted()
        let recorded = count
        let total = Double(recorded) + Double(sorted.count)
        /// Recorded waits at or below `ns`.
        func recordedAtOrBelow(_ ns: Int64) -> UInt64 {
            guard ns > 0 else { return zeros }
            let micros = UInt64(Swift.max(1, (ns + 500) / 1000))
            return zeros + (histogram?.count(within: 0...micros) ?? 0)
        }
        /// The recorded wait of rank `k` (1-based), in milliseconds.
        func recordedRank(_ k: Double) -> Double {
            guard k > Double(zeros), let h = histogram, h.totalCount > 0 else { return 0 }
            let inner = Swift.min(100, (k - Double(zeros)) / Double(h.totalCount) * 100)
            return Swift.min(Double(h.valueAtPercentile(inner)) / 1000, Double(maxNanoseconds) / 1e6)
        }
        func value(_ percentile: Double) -> Double {
            let rank = Swift.max(1, percentile / 100 * total)
            for (i, p) in sorted.enumerated() {
                let below = Double(recordedAtOrBelow(p))
                guard below + Double(i + 1) >= rank else { continue }
                // The rank falls at this pending wait, or at a recorded one before it.
                return below + Double(i) >= rank ? recordedRank(rank - Double(i)) : Double(p) / 1e6
            }
            return recordedRank(rank - Double(sorted.count))
        }
        return WaitPercentiles(p50: value(50), p90: value(90), p99: value(99),
                               max: Double(Swift.max(maxNanoseconds, sorted.last ?? 0)) / 1e6, lowerBound: true)
    }
}
