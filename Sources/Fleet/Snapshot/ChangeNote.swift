import TokenBucket

/// What the last parameter change did, for the detail pane ("refill 2/s → 4/s: p99 1.8 s → 0.4 s").
public struct ChangeNote: Sendable, Equatable {
    public var at: Nanoseconds
    public var summary: String
    /// Key it applied to, or nil for every key.
    public var key: String?
    public init(at: Nanoseconds, summary: String, key: String?) {
        self.at = at; self.summary = summary; self.key = key
    }
}
