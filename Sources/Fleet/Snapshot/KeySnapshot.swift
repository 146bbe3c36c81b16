/// One bucket as the dashboard shows it.
public struct KeySnapshot: Sendable, Equatable {
    public var key: String
    /// Group of the clients using this bucket (`quiet`, `noisy`, ...); `mixed` when shared.
    public var group: String
    public var capacity: Double
    public var refillPerSecond: Double
    /// Tokens available now (0 when in debt).
    public var tokens: Double
    /// Requests waiting on this bucket now.
    public var waiters: Int
    /// Age of the oldest waiter, in seconds (0 when none).
    public var oldestWaitSeconds: Double
    public var requests: Int
    public var admitted: Int
    public var rejected: Int
    public var upstream429: Int
    public var maxQueue: Int
    public var waitMs: WaitPercentiles
    /// Time series, oldest first, one sample per `FleetSnapshot.sampleInterval`.
    public var admittedPerSecond: [Double]
    public var tokenSeries: [Double]
    public var queueSeries: [Double]
    /// Requests that gave up while waiting (deadline passed after a re-plan).
    public var timedOut: Int
    /// The key of the parent bucket every request of this key passes too (its tenant's bucket,
    /// or `global`, under hierarchical keying); nil for a key with no parent. The dashboard's
    /// tenant tree folds each key under its parent; a driver that knows no parents leaves it nil.
    public var parent: String?

    public init(key: String, group: String, capacity: Double, refillPerSecond: Double, tokens: Double,
                waiters: Int, oldestWaitSeconds: Double, requests: Int, admitted: Int, rejected: Int,
                upstream429: Int, maxQueue: Int, waitMs: WaitPercentiles,
                admittedPerSecond: [Double], tokenSeries: [Double], queueSeries: [Double], timedOut: Int = 0, parent: String? = nil) {
        self.timedOut = timedOut
        self.parent = parent
        self.key = key; self.group = group; self.capacity = capacity; self.refillPerSecond = refillPerSecond
        self.tokens = tokens; self.waiters = waiters; self.oldestWaitSeconds = oldestWaitSeconds
        self.requests = requests; self.admitted = admitted; self.rejected = rejected
        self.upstream429 = upstream429; self.maxQueue = maxQueue; self.waitMs = waitMs
        self.admittedPerSecond = admittedPerSecond; self.tokenSeries = tokenSeries; self.queueSeries = queueSeries
    }
}
