import TokenBucket

/// What a client does with a 429.
public enum RetryPolicy: Sendable, Equatable {
    /// Gives up at the first 429.
    case none
    /// Retries up to `maxRetries` times after `delay`.
    case fixed(delay: Nanoseconds, maxRetries: Int)
    /// The official OpenAI and Anthropic SDKs: up to `maxRetries` retries; retry n (from 0) waits
    /// min(base × 2^n, cap) × U[0.75, 1], or the Retry-After when the provider sends one of at most
    /// 60 s and `honourRetryAfter` is set.
    case exponential(maxRetries: Int, base: Nanoseconds, cap: Nanoseconds, honourRetryAfter: Bool)

    /// openai-python / anthropic-sdk: 2 retries, 0.5 s doubling to 8 s, honouring Retry-After.
    public static let sdkDefault = RetryPolicy.exponential(maxRetries: 2, base: 500_000_000, cap: 8_000_000_000,
                                                           honourRetryAfter: true)
}
