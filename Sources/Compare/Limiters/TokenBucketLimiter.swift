import TokenBucket

/// The token bucket, as the library implements it: `capacity` tokens, refilled continuously at
/// `refill` per second, starting full; a request is admitted now if its cost is in the bucket
/// (and takes it), and refused otherwise. It never queues (the library's `tryAcquire`).
///
/// In any window of length `d` it admits at most `capacity + refill × d`.
///
/// ```swift
/// var tb = TokenBucketLimiter(try BucketConfiguration(capacity: 10, refillPerSecond: 2))
/// tb.decide(LimiterRequest(at: 0, cost: 10 * TokenUnits.perToken))   // .admit(at: 0)
/// tb.decide(LimiterRequest(at: 0, cost: TokenUnits.perToken))        // .refuse
/// ```
public struct TokenBucketLimiter: Limiter {
    public private(set) var bucket: BucketState

    public init(_ configuration: BucketConfiguration) {
        bucket = BucketState(configuration)
    }

    public mutating func decide(_ request: LimiterRequest) -> Decision {
        bucket.tryAcquire(units: request.cost, at: request.at) ? .admit(at: request.at) : .refuse
    }

    public func load(at now: Nanoseconds) -> Double {
        1 - bucket.tokens(at: now) / bucket.configuration.capacity
    }

    /// The library's keyed state: one 128-bit theoretical full time per key.
    public var stateBytes: Int { 16 }
}
