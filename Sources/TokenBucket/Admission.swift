/// What ``Bucket/acquire(_:)`` returns: when the request asked, when the bucket admitted it, and
/// when the waiting task actually ran again. Times are offsets from the bucket's
/// ``Bucket/origin``, exact to the nanosecond.
///
/// ```swift
/// let a = try await bucket.acquire(3)
/// a.wait        // how long the bucket made it wait (admission − request)
/// a.lateness    // how late the task resumed after its admission instant (scheduling delay)
/// ```
public struct Admission: Sendable, Hashable {
    /// The cost taken, in tokens.
    public let cost: Double
    /// When `acquire` was called.
    public let requestedAt: Duration
    /// The exact admission instant: the tokens were there from then on.
    public let admittedAt: Duration
    /// When the waiting task observed its admission (read from the clock after resuming).
    public let resumedAt: Duration

    public init(cost: Double, requestedAt: Duration, admittedAt: Duration, resumedAt: Duration) {
        self.cost = cost
        self.requestedAt = requestedAt
        self.admittedAt = admittedAt
        self.resumedAt = resumedAt
    }

    /// How long the bucket made the request wait: `admittedAt − requestedAt`.
    public var wait: Duration { admittedAt - requestedAt }
    /// Resume time minus admission time: the timer's and the executor's delay (zero or more).
    public var lateness: Duration { resumedAt - admittedAt }
    /// Whether the request was admitted at once, without suspending.
    public var isImmediate: Bool { admittedAt == requestedAt }
}

/// A consistent read-out of an async ``Bucket`` for dashboards.
///
/// ```swift
/// let s = bucket.snapshot()
/// print("\(s.tokens) tokens, \(s.waiters) waiting for \(s.queuedCost), oldest \(s.oldestWait)")
/// ```
public struct BucketSnapshot: Sendable, Hashable {
    /// Capacity and refill now.
    public let configuration: BucketConfiguration
    /// When the snapshot was taken, as an offset from the bucket's origin.
    public let at: Duration
    /// Tokens available to take now (0 while waiters are queued on a deficit).
    public let tokens: Double
    /// Tokens now, negative by the cost promised to waiters ahead of refill.
    public let balance: Double
    /// Tasks suspended in ``Bucket/acquire(_:)``.
    public let waiters: Int
    /// Total cost those tasks wait for, in tokens.
    public let queuedCost: Double
    /// How long the longest-waiting task has waited (zero when none).
    public let oldestWait: Duration
    /// When the first waiter will be admitted, if any.
    public let nextAdmission: Duration?
}
