// The seam to the library's `ProviderPreset`: everything the fleet knows about provider limits is
// in this one file. When `TokenBucket.ProviderPreset` lands, `UpstreamLimits.preset(named:)` and
// `presetNames` become thin wrappers over it.

/// A provider's limits as it enforces them: continuous refill ("token bucket") per minute, each
/// dimension a bucket holding one minute's worth; optionally a 1-second cap on requests (Azure
/// checks RPM over 1 s windows, Anthropic may enforce 60 RPM as 1/s).
///
/// ```swift
/// let l = UpstreamLimits.preset(named: "openai-gpt-4o-tier1")!   // 500 RPM, 30,000 TPM
/// l.clientShare(headroom: 0.8, dimension: .requests)           // 400/min = 6.67/s
/// ```
public struct UpstreamLimits: Sendable, Equatable {
    public var requestsPerMinute: Double?
    /// Prompt + completion tokens per minute (OpenAI counts prompt + max_tokens at admission).
    public var tokensPerMinute: Double?
    /// Anthropic's separate input and output token limits.
    public var inputTokensPerMinute: Double?
    public var outputTokensPerMinute: Double?
    /// Also cap requests at RPM/60 per second, with a burst of one second's worth.
    public var burstPerSecond: Bool

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil, inputTokensPerMinute: Double? = nil,
                outputTokensPerMinute: Double? = nil, burstPerSecond: Bool = false) {
        self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
        self.inputTokensPerMinute = inputTokensPerMinute; self.outputTokensPerMinute = outputTokensPerMinute
        self.burstPerSecond = burstPerSecond
    }

    /// Headroom the tutorial applies: size client buckets at 80 % of the provider's limit.
    public static let headroom = 0.8

    public struct Preset: Sendable, Equatable {
        public var name: String
        public var title: String
        public var limits: UpstreamLimits
    }

    /// Dated provider limits (see DESIGN.md); a user edits them in scenario files.
    public static let presets: [Preset] = [
        Preset(name: "openai-gpt-4o-tier1", title: "OpenAI gpt-4o Tier 1",
               limits: UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 30_000)),
        Preset(name: "openai-gpt-4o-mini-tier1", title: "OpenAI gpt-4o-mini Tier 1",
               limits: UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 200_000)),
        Preset(name: "openai-gpt-4o-tier2", title: "OpenAI gpt-4o Tier 2 (approx.)",
               limits: UpstreamLimits(requestsPerMinute: 5_000, tokensPerMinute: 450_000)),
        Preset(name: "anthropic-sonnet-tier1", title: "Anthropic Sonnet 4.x Tier 1",
               limits: UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000,
                                      outputTokensPerMinute: 8_000, burstPerSecond: true)),
        Preset(name: "anthropic-haiku-tier1", title: "Anthropic Haiku 4.5 Tier 1",
               limits: UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 50_000,
                                      outputTokensPerMinute: 10_000, burstPerSecond: true)),
        Preset(name: "openrouter-free", title: "OpenRouter :free",
               limits: UpstreamLimits(requestsPerMinute: 20)),
        Preset(name: "azure-openai-30k", title: "Azure OpenAI deployment of 30,000 TPM (6 RPM per 1,000 TPM)",
               limits: UpstreamLimits(requestsPerMinute: 180, tokensPerMinute: 30_000, burstPerSecond: true)),
    ]

    public static var presetNames: [String] { presets.map(\.name) }

    public static func preset(named name: String) -> UpstreamLimits? {
        presets.first { $0.name == name }?.limits
    }

    /// Which limit a client bucket is sized from.
    public enum Dimension: Sendable { case requests, tokens }

    /// The client-side rate, per minute, that `headroom` of the binding limit allows (nil when the
    /// provider does not limit that dimension). Tokens use the combined TPM, or input + output.
    public func clientShare(headroom: Double = UpstreamLimits.headroom, dimension: Dimension) -> Double? {
        switch dimension {
        case .requests:
            return requestsPerMinute.map { $0 * headroom }
        case .tokens:
            if let t = tokensPerMinute { return t * headroom }
            if let i = inputTokensPerMinute { return (i + (outputTokensPerMinute ?? 0)) * headroom }
            return nil
        }
    }
}
