import TokenBucket

/// The rate-limited provider: its limits (continuous refill, as the big providers enforce them)
/// and how long it takes to answer.
public struct UpstreamSpec: Sendable, Equatable {
    public var name: String
    public var limits: ProviderLimits
    /// Time to first token, drawn uniformly from this range.
    public var ttft: ClosedRange<Double>     // seconds
    /// Output speed, drawn uniformly from this range (tokens per second); only LLM costs stream.
    public var tokensPerSecond: ClosedRange<Double>

    public init(name: String = "upstream", limits: ProviderLimits = ProviderLimits(),
                ttft: ClosedRange<Double> = 0.4...0.9, tokensPerSecond: ClosedRange<Double> = 60...130) {
        self.name = name; self.limits = limits; self.ttft = ttft; self.tokensPerSecond = tokensPerSecond
    }
}
