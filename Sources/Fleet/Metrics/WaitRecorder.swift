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
    /// - Complexity: O(histogram size + m log m) for m pending waits; with ``ranks()`` kept
    ///   from an earlier call, ``WaitRanks/percentiles(includingPending:)`` is O(recorded
    ///   buckets + m log m).
    public func percentiles(includingPending pending: [Int64]) -> WaitPercentiles {
        guard !pending.isEmpty else { return percentiles() }
        return ranks().percentiles(includingPending: pending)
    }

    /// The recorded waits as their distinct histogram values, ascending, with how many were
    /// recorded at or below each: all a merge with waiting requests needs, computed once per
    /// change of the recorded waits (a dashboard merges every frame, for thousands of keys).
    /// - Complexity: O(histogram size).
    public func ranks() -> WaitRanks {
        var r = WaitRanks(zeros: zeros, maxNanoseconds: maxNanoseconds)
        guard let h = histogram else { return r }
        var cumulative = zeros
        for v in h.recordedValues() {
            cumulative += UInt64(v.count)
            r.micros.append(v.value)
            r.cumulative.append(cumulative)
        }
        return r
    }
}

/// Recorded waits in rank order (see ``WaitRecorder/ranks()``).
public struct WaitRanks: Sendable {
    /// Waits recorded as exactly zero.
    var zeros: UInt64
    var maxNanoseconds: Int64
    /// Distinct recorded waits (highest equivalent value of each histogram bucket), µs, ascending.
    var micros: [UInt64] = []
    /// Waits recorded at or below `micros[i]`, zeros included.
    var cumulative: [UInt64] = []

    var total: UInt64 { cumulative.last ?? zeros }

    /// p50, p90, p99 and max of the recorded waits together with the waits so far of the
    /// requests still waiting (ns), as if they had been recorded now: each percentile is the
    /// value of rank ⌈q × total⌉ in the merged order.
    /// - Complexity: O(recorded buckets + m log m).
    public func percentiles(includingPending pending: [Int64]) -> WaitPercentiles {
        let waiting = pending.map { Swift.max(0, $0) }.sorted()
        let total = Double(self.total) + Double(waiting.count)
        guard total > 0 else { return WaitPercentiles(lowerBound: !pending.isEmpty) }
        let targets = [50.0, 90.0, 99.0].map { UInt64(Swift.max(1, ($0 / 100 * total).rounded(.up))) }
        var found = [Double](repeating: 0, count: targets.count)
        var next = 0
        var seen: UInt64 = 0
        var i = 0, j = 0   // next recorded bucket, next waiting request
        let cap = Double(maxNanoseconds) / 1e6
        // Zeros first (recorded and waiting ones), then the two ascending lists merged.
        while j < waiting.count && waiting[j] == 0 { j += 1 }
        seen = zeros + UInt64(j)
        while next < targets.count && seen >= targets[next] { found[next] = 0; next += 1 }
        while next < targets.count && (i < micros.count || j < waiting.count) {
            let recordedMs = i < micros.count ? Double(micros[i]) / 1000 : .infinity
            let waitingMs = j < waiting.count ? Double(waiting[j]) / 1e6 : .infinity
            let value: Double
            if recordedMs <= waitingMs {
                seen += cumulative[i] - (i == 0 ? zeros : cumulative[i - 1])
                value = Swift.min(recordedMs, cap)
                i += 1
            } else {
                seen += 1
                value = waitingMs
                j += 1
            }
            while next < targets.count && seen >= targets[next] { found[next] = value; next += 1 }
        }
        return WaitPercentiles(p50: found[0], p90: found[1], p99: found[2],
                               max: Double(Swift.max(maxNanoseconds, waiting.last ?? 0)) / 1e6, lowerBound: !pending.isEmpty)
    }
}
