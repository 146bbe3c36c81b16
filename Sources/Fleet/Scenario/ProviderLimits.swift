import TokenBucket

// The seam to the library's `ProviderPreset`: everything the fleet knows about provider limits is
// in this one file, and the preset table itself is the library's.

/// The simulated provider's limits as it enforces them: continuous refill ("token bucket") per
/// minute, each dimension a bucket holding one minute's worth; optionally a 1-second cap on
/// requests (Azure checks RPM over 1 s windows, Anthropic may enforce 60 RPM as 1/s) and a daily
/// request limit. (Not the library's `UpstreamLimits`, the published numbers these are made
/// from: see ``init(_:)``.)
///
/// ```swift
/// let l = ProviderLimits.preset(named: "OpenAI gpt-4o Tier 1")!   // 500 RPM, 30,000 TPM
/// l.clientShare(headroom: 0.8, dimension: .requests)           // 400/min = 6.67/s
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

    /// Headroom the tutorial applies: size client buckets at 80 % of the provider's limit.
    public static let headroom = 0.8

    public struct Preset: Sendable, Equatable {
        /// The library's preset name (`ProviderPreset.name`), what the dashboard's picker sends.
        public var name: String
        /// The short name scenario files may use (`preset = "openai-gpt-4o-tier1"`).
        public var slug: String
        public var limits: ProviderLimits
        /// For messages: the library's name.
        public var title: String { name }
    }

    /// The library's presets (`TokenBucket.ProviderPreset.all`: one table, dated limits from the
    /// providers' documentation), as the simulated provider enforces them, plus a 30,000 TPM
    /// Azure deployment.
    public static let presets: [Preset] = {
        var all = ProviderPreset.all
        if let azure = try? ProviderPreset.azure(tokensPerMinute: 30_000) { all.append(azure) }
        return all.map { p in
            Preset(name: p.name, slug: slug(p.name), limits: ProviderLimits(p.upstream))
        }
    }()

    /// "OpenAI gpt-4o Tier 1" → "openai-gpt-4o-tier-1"; a few short forms kept from the first
    /// scenario format are accepted too (see ``preset(named:)``).
    static func slug(_ name: String) -> String {
        var out = ""
        for ch in name.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "." { out.append(ch) } else if !out.hasSuffix("-") { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out
    }

    static let shortNames: [String: String] = [
        "openai-gpt-4o-tier1": "OpenAI gpt-4o Tier 1", "openai-gpt-4o-mini-tier1": "OpenAI gpt-4o-mini Tier 1",
        "openai-gpt-4o-tier2": "OpenAI gpt-4o Tier 2", "anthropic-sonnet-tier1": "Anthropic Sonnet 4.x Tier 1",
        "anthropic-haiku-tier1": "Anthropic Haiku 4.5 Tier 1", "openrouter-free": "OpenRouter :free",
        "azure-openai-30k": "Azure OpenAI 30,000 TPM",
    ]

    public static var presetNames: [String] { presets.map(\.name) }

    /// The preset with this name, its slug, or a short name (case-insensitive).
    public static func presetEntry(named name: String) -> Preset? {
        let key = name.lowercased()
        let full = shortNames[key] ?? name
        return presets.first { $0.name == full || $0.name.lowercased() == key || $0.slug == key }
    }

    public static func preset(named name: String) -> ProviderLimits? { presetEntry(named: name)?.limits }

    /// The fleet's view of the library's limits: a per-second request cap becomes `burstPerSecond`.
    public init(_ limits: TokenBucket.UpstreamLimits) {
        self.init(requestsPerMinute: limits.requestsPerMinute, tokensPerMinute: limits.tokensPerMinute,
                  inputTokensPerMinute: limits.inputTokensPerMinute, outputTokensPerMinute: limits.outputTokensPerMinute,
                  burstPerSecond: limits.requestsPerSecond != nil, requestsPerDay: limits.requestsPerDay)
    }

    /// Which limit a client bucket is sized from.
    public enum Dimension: Sendable { case requests, tokens }

    /// The client-side rate, per minute, that `headroom` of the binding limit allows (nil when the
    /// provider does not limit that dimension). Tokens use the combined TPM, or input + output.
    public func clientShare(headroom: Double = ProviderLimits.headroom, dimension: Dimension) -> Double? {
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
