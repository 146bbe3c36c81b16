import TokenBucket

/// One nominal budget, mapped to every algorithm's parameters by one rule, so the comparison is
/// at equal strength:
///
/// | algorithm | parameters |
/// |---|---|
/// | token bucket, GCRA | capacity `burst`, refill `rate` |
/// | leaky-bucket queue | drains `rate`, queue limit `burst` (nginx `rate=`, `burst=`) |
/// | fixed window, sliding log, sliding counter | `rate × window` per `window` |
/// | concurrency limit | `concurrency` in progress (by default `rate × mean service time`, Little's law) |
///
/// ```swift
/// let b = try Budget(rate: Rate(perSecond: 2), burst: 10 * TokenUnits.perToken, window: 5_000_000_000,
///                    concurrency: 2 * TokenUnits.perToken)
/// b.windowLimit   // 10 tokens per 5 s
/// ```
public struct Budget: Sendable, Hashable {
    /// Sustained rate, tokens (or requests) per second, exact.
    public var rate: Rate
    /// Burst: the token bucket's capacity and the queue's limit, nano-tokens.
    public var burst: Int64
    /// The window of the window algorithms and of the max-in-window metric, ns.
    public var window: Nanoseconds
    /// Cost allowed in progress at once, nano-tokens.
    public var concurrency: Int64

    public init(rate: Rate, burst: Int64, window: Nanoseconds, concurrency: Int64) throws {
        guard burst > 0, burst <= TokenUnits.units(BucketConfiguration.maximumCapacity) else {
            throw CompareError("burst must be > 0 and at most 1000000000 tokens, got \(TokenUnits.tokens(burst))")
        }
        guard window > 0 else { throw CompareError("window must be > 0") }
        guard concurrency > 0 else { throw CompareError("concurrency must be > 0, got \(TokenUnits.tokens(concurrency))") }
        self.rate = rate; self.burst = burst; self.window = window; self.concurrency = concurrency
        let limit = Int128(rate.numerator) * Int128(window) / Int128(rate.denominator)
        guard limit > 0 else {
            throw CompareError("rate × window is below one nano-token: raise --rate or --window")
        }
        guard limit <= Int128(TokenUnits.units(BucketConfiguration.maximumCapacity)) else {
            throw CompareError("rate × window must be at most 1000000000 tokens, got \(Double(limit) / 1e9)")
        }
    }

    /// `rate × window` in nano-tokens (rounded down), at most 10^9 tokens.
    public var windowLimit: Int64 {
        Int64(clamping: Int128(rate.numerator) * Int128(window) / Int128(rate.denominator))
    }

    /// The token bucket's configuration.
    public func bucketConfiguration() throws -> BucketConfiguration {
        try BucketConfiguration(capacity: TokenUnits.tokens(burst), refill: rate)
    }
}

/// Where the implementations of one algorithm really differ.
public struct LimiterOptions: Sendable, Hashable {
    /// Whether refused requests count against the window limits (counters that increment and
    /// then compare do); the buckets, the queue and the concurrency limit never count them.
    public var countRefused: Bool
    /// How the fixed window is placed (the sliding counter is always clock-aligned).
    public var alignment: WindowAlignment

    public init(countRefused: Bool = false, alignment: WindowAlignment = .clock) {
        self.countRefused = countRefused; self.alignment = alignment
    }
}

/// The algorithms compared, by their command-line names.
public enum Algorithm: String, Sendable, CaseIterable {
    case tokenBucket = "token-bucket"
    case gcra
    case leakyQueue = "leaky-queue"
    case fixedWindow = "fixed-window"
    case slidingLog = "sliding-log"
    case slidingCounter = "sliding-counter"
    case concurrency

    /// A fresh limiter (one key's) for `budget`.
    public func limiter(_ budget: Budget, _ options: LimiterOptions) throws -> any Limiter {
        switch self {
        case .tokenBucket: return TokenBucketLimiter(try budget.bucketConfiguration())
        case .gcra: return try GCRALimiter(rate: budget.rate, capacity: budget.burst)
        case .leakyQueue: return try LeakyQueueLimiter(rate: budget.rate, queueLimit: budget.burst)
        case .fixedWindow:
            return try FixedWindowLimiter(limit: budget.windowLimit, window: budget.window,
                                          alignment: options.alignment, countRefused: options.countRefused)
        case .slidingLog:
            return try SlidingLogLimiter(limit: budget.windowLimit, window: budget.window, countRefused: options.countRefused)
        case .slidingCounter:
            return try SlidingCounterLimiter(limit: budget.windowLimit, window: budget.window,
                                             countRefused: options.countRefused)
        case .concurrency: return try ConcurrencyLimiter(cap: budget.concurrency)
        }
    }

    /// Its parameters under `budget`, in words, for tables.
    public func parameters(_ budget: Budget) -> String {
        let rate = Format.amount(budget.rate.perSecond)
        let burst = Format.amount(TokenUnits.tokens(budget.burst))
        let limit = Format.amount(TokenUnits.tokens(budget.windowLimit))
        let window = Format.duration(budget.window)
        switch self {
        case .tokenBucket, .gcra: return "capacity \(burst), \(rate)/s"
        case .leakyQueue: return "drain \(rate)/s, queue \(burst)"
        case .fixedWindow, .slidingLog, .slidingCounter: return "\(limit) per \(window)"
        case .concurrency: return "\(Format.amount(TokenUnits.tokens(budget.concurrency))) in progress"
        }
    }
}
