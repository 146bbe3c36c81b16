import Fleet
import TokenBucket

/// How the built-in mock upstream behaves (`bucketscope mock-upstream`, `serve --mock`).
public struct MockUpstreamConfiguration: Sendable {
    /// Its own limits, as a provider enforces them: a bucket per dimension holding one minute's
    /// worth, refilled continuously. nil: not limited.
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    /// Time to first token.
    public var timeToFirstToken: Duration
    /// Generation speed in tokens per second after the first token; 0 = instant.
    public var tokensPerSecond: Double
    /// Lognormal fit that completion lengths are drawn from (capped by the request's max tokens).
    public var profile: LLMProfile
    public var seed: UInt64

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil,
                timeToFirstToken: Duration = .zero, tokensPerSecond: Double = 0,
                profile: LLMProfile = .conversation, seed: UInt64 = 1) {
        self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
        self.timeToFirstToken = timeToFirstToken; self.tokensPerSecond = tokensPerSecond
        self.profile = profile; self.seed = seed
    }

    /// The provider-side buckets: capacity one minute's limit, refill limit / 60 per second;
    /// nil when nothing is limited.
    func limits() throws -> LLMLimits? {
        guard requestsPerMinute != nil || tokensPerMinute != nil else { return nil }
        func minute(_ limit: Double?) throws -> BucketConfiguration? {
            guard let limit else { return nil }
            return try BucketConfiguration(capacity: limit, refill: Rate(limit, per: .seconds(60)))
        }
        return try LLMLimits(requests: minute(requestsPerMinute), tokens: minute(tokensPerMinute))
    }
}
