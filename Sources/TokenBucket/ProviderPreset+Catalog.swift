extension ProviderPreset {
    /// Presets from the providers' documented limits (table in DESIGN.md; dated, edit as needed).
    public static let documented: [ProviderPreset] = [
        make("OpenAI gpt-4o Tier 1", "OpenAI", UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 30_000),
             "TPM counts prompt + max_tokens at admission."),
        make("OpenAI gpt-4o-mini Tier 1", "OpenAI", UpstreamLimits(requestsPerMinute: 500, tokensPerMinute: 200_000),
             "TPM counts prompt + max_tokens at admission."),
        make("OpenAI gpt-4o Tier 2", "OpenAI", UpstreamLimits(requestsPerMinute: 5_000, tokensPerMinute: 450_000),
             "Approximate Tier 2 limits. TPM counts prompt + max_tokens at admission."),
        make("Anthropic Sonnet 4.x Tier 1", "Anthropic",
             UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000, requestsPerSecond: 50.0 / 60),
             "Continuous refill (a token bucket); a per-minute limit may be enforced per second (60 RPM as 1/s)."),
        make("Anthropic Haiku 4.5 Tier 1", "Anthropic",
             UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 50_000, outputTokensPerMinute: 10_000, requestsPerSecond: 50.0 / 60),
             "Continuous refill (a token bucket); a per-minute limit may be enforced per second."),
        make("OpenRouter :free", "OpenRouter", UpstreamLimits(requestsPerMinute: 20, requestsPerDay: 50),
             "Free models: 20 RPM plus 50 requests per day (1,000 per day with credits)."),
        try! azure(tokensPerMinute: 10_000),
    ]

    /// The tutorial's three examples, named as it names them, with the client figures the
    /// 80 % rule gives. Their upstream numbers come from the table above (the same providers
    /// and tiers), not from the tutorial.
    public static let tutorialExamples: [ProviderPreset] = [
        make("OpenAI Tier 2", "OpenAI", UpstreamLimits(requestsPerMinute: 5_000, tokensPerMinute: 450_000),
             "Tutorial example; limits as OpenAI gpt-4o Tier 2 (approximate).",
             TutorialComparison(published: nil, derived: "5,000 RPM × 0.8 / 60 = 66.67/s",
                                remark: "The tutorial's published figure for this example is not known to us. "
                                    + "Its figures elsewhere break its own rule: 8/s for 500 RPM, where 500 × 0.8 / 60 = 6.67/s.")),
        make("Anthropic Build 1", "Anthropic",
             UpstreamLimits(requestsPerMinute: 50, inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000, requestsPerSecond: 50.0 / 60),
             "Tutorial example; Anthropic's first usage tier, limits as Anthropic Sonnet 4.x Tier 1.",
             TutorialComparison(published: nil, derived: "50 RPM × 0.8 / 60 = 0.67/s",
                                remark: "The tutorial's published figure for this example is not known to us.")),
        make("OpenRouter Free", "OpenRouter", UpstreamLimits(requestsPerMinute: 20, requestsPerDay: 50),
             "Tutorial example; limits as OpenRouter :free.",
             TutorialComparison(published: nil, derived: "20 RPM × 0.8 / 60 = 0.27/s",
                                remark: "The tutorial's published figure for this example is not known to us.")),
    ]

    /// The one published figure we know does not follow the rule.
    public static let tutorialRuleViolation = TutorialComparison(
        published: "8/s for a 500 RPM limit", derived: "500 RPM × 0.8 / 60 = 6.67/s",
        remark: "8/s is 480 per minute, 96 % of the limit, not 80 %.")

    private static func make(_ name: String, _ provider: String, _ upstream: UpstreamLimits, _ notes: String,
                             _ tutorial: TutorialComparison? = nil) -> ProviderPreset {
        // The catalogue's numbers are constants checked by the tests; a failure here is a typo.
        try! ProviderPreset(name: name, provider: provider, upstream: upstream, notes: notes, tutorial: tutorial)
    }
}
