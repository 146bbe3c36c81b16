extension ProviderPreset {
    /// Presets from the providers' documented limits (table in DESIGN.md; dated, edit as needed).
    /// One entry per limit set; the tutorial's names for three of them are aliases.
    public static let documented: [ProviderPreset] = [
        make("OpenAI gpt-4o Tier 1", "openai-gpt-4o-tier1", "OpenAI", UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 30_000),
             "TPM counts prompt + max_tokens at admission.", tutorialRuleViolation),
        make("OpenAI gpt-4o-mini Tier 1", "openai-gpt-4o-mini-tier1", "OpenAI", UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 200_000),
             "TPM counts prompt + max_tokens at admission."),
        make("OpenAI gpt-4o Tier 2", "openai-gpt-4o-tier2", "OpenAI", UpstreamLimits(requestsPerMinute: 5_000, tokensPerMinute: 450_000),
             "Approximate Tier 2 limits. TPM counts prompt + max_tokens at admission. The tutorial's \"OpenAI Tier 2\".",
             TutorialComparison(published: nil, derived: "5,000 RPM × 0.8 / 60 = 66.67/s",
                                remark: "The tutorial's published figure for this example is not known to us. "
                                    + "Its figures elsewhere break its own rule: 8/s for 500 RPM, where 500 × 0.8 / 60 = 6.67/s."),
             aliases: ["OpenAI Tier 2"]),
        make("Anthropic Sonnet 4.x Tier 1", "anthropic-sonnet-tier1", "Anthropic",
             UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000, requestsPerSecond: 50.0 / 60),
             "Continuous refill (a token bucket); a per-minute limit may be enforced per second (60 RPM as 1/s). "
                + "The tutorial's \"Anthropic Build 1\" (the first usage tier).",
             TutorialComparison(published: nil, derived: "50 RPM × 0.8 / 60 = 0.67/s",
                                remark: "The tutorial's published figure for this example is not known to us."),
             aliases: ["Anthropic Build 1"]),
        make("Anthropic Haiku 4.5 Tier 1", "anthropic-haiku-tier1", "Anthropic",
             UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 50_000, outputTokensPerMinute: 10_000, requestsPerSecond: 50.0 / 60),
             "Continuous refill (a token bucket); a per-minute limit may be enforced per second."),
        make("OpenRouter :free", "openrouter-free", "OpenRouter", UpstreamLimits(requestsPerMinute: 20, requestsPerDay: 50),
             "Free models: 20 RPM plus 50 requests per day (1,000 per day with credits). The tutorial's \"OpenRouter Free\".",
             TutorialComparison(published: nil, derived: "20 RPM × 0.8 / 60 = 0.27/s",
                                remark: "The tutorial's published figure for this example is not known to us."),
             aliases: ["OpenRouter Free"]),
        try! azure(tokensPerMinute: 30_000),
    ]

    /// The presets the tutorial uses as examples, each with what it published against what the
    /// 80 % rule gives.
    public static var tutorialExamples: [ProviderPreset] { all.filter { $0.tutorial != nil } }

    /// The one published figure we know does not follow the rule.
    public static let tutorialRuleViolation = TutorialComparison(
        published: "8/s for a 500 RPM limit", derived: "500 RPM × 0.8 / 60 = 6.67/s",
        remark: "8/s is 480 per minute, 96 % of the limit, not 80 %.")

    private static func make(_ name: String, _ slug: String, _ provider: String, _ upstream: UpstreamLimits, _ notes: String,
                             _ tutorial: TutorialComparison? = nil, aliases: [String] = []) -> ProviderPreset {
        // The catalogue's numbers are constants checked by the tests; a failure here is a typo.
        try! ProviderPreset(name: name, slug: slug, provider: provider, upstream: upstream, notes: notes,
                            tutorial: tutorial, aliases: aliases)
    }
}
