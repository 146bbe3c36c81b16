import TokenBucket

/// The tutorial's tuning rule: when the provider's 429 rate over `window` exceeds `threshold`,
/// cut every client bucket's refill by `cut`; optionally raise it by `raise` after a window
/// without any 429 (never above the configured refill).
public struct TuningSpec: Sendable, Equatable {
    public var window: Nanoseconds
    public var threshold: Double
    public var cut: Double
    public var raise: Double?
    public init(window: Nanoseconds = 10_000_000_000, threshold: Double = 0.01, cut: Double = 0.2, raise: Double? = 0.05) {
        self.window = window; self.threshold = threshold; self.cut = cut; self.raise = raise
    }
}
