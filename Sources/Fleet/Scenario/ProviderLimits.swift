import TokenBucket

// The seam to the library's `UpstreamLimits` and `ProviderPreset`: the preset table and the rule
// that sizes client buckets from it are the library's (see `FleetCore.applyPreset`).

/// The simulated provider's limits as it enforces them: continuous refill ("token bucket") per
/// minute, each dimension a bucket holding one minute's worth; optionally a 1-second cap on
/// requests (Azure checks RPM over 1 s windows, Anthropic may enforce 60 RPM as 1/s) and a daily
/// request limit. (Not the library's `UpstreamLimits`, the published numbers these are made
/// from: see ``init(_:)``.)
///
/// ```swift
/// let l = ProviderLimits.preset(named: "openai-gpt-4o-tier1")!   // 500 RPM, 30,000 TPM
/// ```
public struct ProviderLimits: Sendable, Equatable {
    public var requestsPerMinute: Double?
    /// Prompt + completion tokens per minute (OpenAI counts prompt + max_tokens at admission).
    public var tokensPerMinute: Double?
    /// Anthropic's separate input and output token limits.
    public var inputTokensPerMinute: Double?
    public var outputTokensPerMinute: Double?
    /// Also cap requests at RPM/60 per second, with a burst of one second's worth.
    public var burstPerSecond: Bool
    /// Requests per day (OpenRouter's `:free` models: 50), a bucket of one day's worth refilling
    /// continuously over the day.
    public var requestsPerDay: Double?

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil, inputTokensPerMinute: Double? = nil,
                outputTokensPerMinute: Double? = nil, burstPerSecond: Bool = false, requestsPerDay: Double? = nil) {
        self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
        self.inputTokensPerMinute = inputTokensPerMinute; self.outputTokensPerMinute = outputTokensPerMinute
        self.burstPerSecond = burstPerSecond; self.requestsPerDay = requestsPerDay
    }

    /// The limits of the library's preset called `name` (its name, slug or an alias, as
    /// `ProviderPreset.named` reads it): the one table of presets is the library's.
    public static func preset(named name: String) -> ProviderLimits? {
        ProviderPreset.named(name).map { ProviderLimits($0.upstream) }
    }

    /// What a preset may be called in a scenario file or a command: the library's slugs.
    public static var presetNames: [String] { ProviderPreset.all.map(\.slug) }

    /// The fleet's view of the library's limits: a per-second request cap becomes `burstPerSecond`.
    public init(_ limits: TokenBucket.UpstreamLimits) {
        self.init(requestsPerMinute: limits.requestsPerMinute, tokensPerMinute: limits.tokensPerMinute,
                  inputTokensPerMinute: limits.inputTokensPerMinute, outputTokensPerMinute: limits.outputTokensPerMinute,
                  burstPerSecond: limits.requestsPerSecond != nil, requestsPerDay: limits.requestsPerDay)
    }
}
