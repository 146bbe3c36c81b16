/// A provider's published limits, in the provider's own units (per minute, per day), as the
/// simulator models the upstream and as ``ProviderPreset`` derives client buckets from them.
/// `nil` means the provider does not limit that dimension (or we do not know a limit).
///
/// ```swift
/// let openAI = UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 30_000)
/// ```
public struct UpstreamLimits: Sendable, Hashable {
    public var requestsPerMinute: Double?
    /// Input + output tokens per minute.
    public var tokensPerMinute: Double?
    public var inputTokensPerMinute: Double?
    public var outputTokensPerMinute: Double?
    public var requestsPerDay: Double?
    /// A shorter-window request limit the provider may enforce inside the per-minute one, per
    /// second (Anthropic: 60 RPM may be enforced as 1 per second; Azure checks RPM over 1 s or
    /// 10 s windows). `nil` when none is documented.
    public var requestsPerSecond: Double?

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil,
                inputTokensPerMinute: Double? = nil, outputTokensPerMinute: Double? = nil,
                requestsPerDay: Double? = nil, requestsPerSecond: Double? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.inputTokensPerMinute = inputTokensPerMinute
        self.outputTokensPerMinute = outputTokensPerMinute
        self.requestsPerDay = requestsPerDay
        self.requestsPerSecond = requestsPerSecond
    }
}
