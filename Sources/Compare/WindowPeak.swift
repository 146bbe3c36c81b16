import DequeModule
import TokenBucket

/// The most admitted cost in any window of `window` ns, tracked as admissions come in.
///
/// Admissions must come in non-decreasing order of their instants (true for each limiter: the
/// refusing ones admit at arrival, the queue in arrival order). The window ending at each
/// admission, `(a − window, a]`, is the one to check: a window holding the most cost can always
/// be slid right until its last admission sits at its end.
///
/// ```swift
/// var p = WindowPeak(window: 1_000_000_000)
/// p.add(at: 0, cost: 3); p.add(at: 999_999_999, cost: 4); p.add(at: 1_000_000_000, cost: 5)
/// p.peak   // 9: the last two
/// ```
/// - Complexity: amortized O(1) per admission; memory for the admissions of one window.
public struct WindowPeak: Sendable {
    public let window: Nanoseconds
    private var recent: Deque<(at: Nanoseconds, cost: Int64)> = []
    private var sum: Int64 = 0
    public private(set) var peak: Int64 = 0

    public init(window: Nanoseconds) { self.window = window }

    public mutating func add(at t: Nanoseconds, cost: Int64) {
        while let first = recent.first, first.at <= t &- window {
            sum -= first.cost
            recent.removeFirst()
        }
        recent.append((t, cost))
        sum = sum.addingReportingOverflow(cost).overflow ? .max : sum + cost
        peak = Swift.max(peak, sum)
    }
}
