import Foundation

/// The waits of one key, for `replay --summary`, in a few hundred bytes: exact while a key has
/// at most ``exactLimit`` admitted requests (most keys of a log with many keys), then a sparse
/// log-bucketed histogram of 64 buckets per doubling.
///
/// Precision: percentiles are exact in the exact form; in the bucketed form each is reported as
/// its bucket's geometric midpoint, within 0.55 % of the true value (buckets are 2^(1/64) ≈
/// 1.1 % wide), and never above the exact maximum. The maximum is always exact.
///
/// Memory: 32 bytes inline plus one array of 8-byte entries (at most ``exactLimit`` waits, then
/// one entry per bucket in use: a key whose waits span 1 ms to 10 s uses at most 850, typically
/// a few dozen). HdrHistogram with two significant digits, used before, took ~16 KB per key.
///
/// ```swift
/// var d = WaitDistribution()
/// d.record(5_000_000_000)
/// d.percentile(99)   // 5_000_000_000
/// ```
struct WaitDistribution: Sendable {
    /// Waits kept exactly up to this many.
    static let exactLimit = 16
    /// Buckets per doubling of the wait.
    static let bucketsPerOctave = 64.0

    /// Sorted waits (ns) while exact; else sorted entries `bucket << 40 | count`.
    private var entries: [UInt64] = []
    private(set) var count = 0
    private(set) var max: Int64 = 0
    private var bucketed = false

    /// Records one wait, in nanoseconds (≥ 0).
    mutating func record(_ wait: Int64) {
        count += 1
        max = Swift.max(max, wait)
        if !bucketed {
            let w = UInt64(wait)
            entries.insert(w, at: lowerBound(w + 1))
            if entries.count > Self.exactLimit {
                let exact = entries
                entries = []
                bucketed = true
                for w in exact { add(bucket: Self.bucket(of: Int64(w))) }
            }
            return
        }
        add(bucket: Self.bucket(of: wait))
    }

    /// The smallest recorded wait such that at least `p` % of the waits are at most it (the
    /// rank-⌈p·n/100⌉ wait), in nanoseconds; 0 with no waits.
    func percentile(_ p: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, Int((p / 100 * Double(count)).rounded(.up)))
        if !bucketed { return Int64(entries[rank - 1]) }
        var seen = 0
        for e in entries {
            seen += Int(e & Self.countMask)
            if seen >= rank { return Swift.min(Self.midpoint(of: Int(e >> 40)), max) }
        }
        return max
    }

    private static let countMask: UInt64 = (1 << 40) - 1

    private mutating func add(bucket b: Int) {
        let key = UInt64(b) << 40
        let i = lowerBound(key)
        if i < entries.endIndex, entries[i] >> 40 == UInt64(b), entries[i] & Self.countMask < Self.countMask {
            entries[i] += 1
        } else {
            entries.insert(key | 1, at: i)
        }
    }

    /// The first index whose entry is ≥ `x` (binary search; entries are sorted).
    private func lowerBound(_ x: UInt64) -> Int {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Bucket 0 holds waits of 0; bucket k ≥ 1 holds waits w with ⌊64 · log2(w)⌋ = k − 1.
    static func bucket(of wait: Int64) -> Int {
        wait <= 0 ? 0 : 1 + Int((log2(Double(wait)) * bucketsPerOctave).rounded(.down))
    }

    /// The geometric midpoint of bucket `b`, rounded to the nanosecond.
    static func midpoint(of b: Int) -> Int64 {
        guard b > 0 else { return 0 }
        let low = exp2(Double(b - 1) / bucketsPerOctave)
        let high = exp2(Double(b) / bucketsPerOctave)
        return Int64((low * high).squareRoot().rounded())
    }
}
