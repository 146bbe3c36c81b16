import Testing
@testable import TokenBucket

@Suite("Provider presets")
struct ProviderPresetTests {
    @Test("500 RPM × 0.8 / 60 is exactly 20/3 per second, 6.67/s, not the tutorial's 8/s")
    func openAITier1() throws {
        let p = try #require(ProviderPreset.named("OpenAI gpt-4o Tier 1"))
        #expect(p.limits.requests?.refill == (try Rate(numerator: 20, denominator: 3)))
        #expect(p.limits.requests?.refill != (try Rate(numerator: 8, denominator: 1)))
        #expect(p.arithmetic[0] == "requests: 500 RPM × 0.8 / 60 = 6.67/s; capacity max(1, 1 s of refill) = 6.67")
        #expect(p.limits.tokens?.refill == (try Rate(numerator: 400, denominator: 1)))          // 30,000 × 0.8 / 60
        #expect(p.limits.tokens?.capacity == 24_000)
        #expect(p.arithmetic[1] == "tokens: 30,000 TPM × 0.8 / 60 = 400/s; capacity 30,000 × 0.8 = 24,000 (a minute of headroomed budget)")
        #expect(p.upstream.requestsPerMinute == 500 && p.upstream.tokensPerMinute == 30_000)
    }

    @Test("every documented preset refills at 80 % of each limit, exactly")
    func eightyPercentEverywhere() throws {
        for p in ProviderPreset.all {
            let u = p.upstream
            let pairs: [(Double?, BucketConfiguration?)] = [
                (u.requestsPerMinute, p.limits.requests), (u.tokensPerMinute, p.limits.tokens),
                (u.inputTokensPerMinute, p.limits.inputTokens), (u.outputTokensPerMinute, p.limits.outputTokens),
            ]
            for (limit, bucket) in pairs {
                #expect((limit == nil) == (bucket == nil), "\(p.name)")
                guard let limit, let bucket else { continue }
                // refill × 60 = 0.8 × limit, compared as exact fractions: n × 60 × 5 == 4 × limit × d
                let r = bucket.refill
                let lhs: Int128 = Int128(r.numerator) * 300
                let rhs: Int128 = Int128(limit) * 4 * Int128(r.denominator)
                #expect(lhs == rhs, "\(p.name)")
            }
            #expect(!p.arithmetic.isEmpty)
        }
    }

    @Test("one entry per limit set, each with a unique name and slug; the tutorial's names are aliases")
    func catalogueHasOneEntryPerLimitSet() {
        let all = ProviderPreset.all
        #expect(all.map(\.slug) == ["openai-gpt-4o-tier1", "openai-gpt-4o-mini-tier1", "openai-gpt-4o-tier2",
                                    "anthropic-sonnet-tier1", "anthropic-haiku-tier1", "openrouter-free", "azure-openai-30k"])
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(Set(all.map(\.upstream)).count == all.count)     // no duplicated limits under two names
        #expect(ProviderPreset.named("azure-openai-30k")?.upstream.tokensPerMinute == 30_000)
        for (alias, slug) in [("OpenAI Tier 2", "openai-gpt-4o-tier2"), ("Anthropic Build 1", "anthropic-sonnet-tier1"),
                              ("OpenRouter Free", "openrouter-free")] {
            #expect(ProviderPreset.named(alias)?.slug == slug)
        }
        #expect(ProviderPreset.tutorialExamples.count == 4)
        for p in ProviderPreset.tutorialExamples where p.slug != "openai-gpt-4o-tier1" {
            #expect(p.tutorial?.published == nil)                 // not known to us: not invented
        }
        #expect(ProviderPreset.named("OpenAI gpt-4o Tier 1")?.tutorial == ProviderPreset.tutorialRuleViolation)
        #expect(ProviderPreset.tutorialRuleViolation.derived == "500 RPM × 0.8 / 60 = 6.67/s")
    }

    @Test("a preset is found by its name or its slug, in any case", arguments: [
        "OpenAI gpt-4o Tier 1", "openai gpt-4o tier 1", "openai-gpt-4o-tier1", "OPENAI-GPT-4O-TIER1", "openai-gpt-4o-tier-1",
    ])
    func lookup(_ name: String) throws {
        #expect(try ProviderPreset(named: name).slug == "openai-gpt-4o-tier1")
    }

    @Test func unknownNamesAreRefusedWithTheList() {
        #expect(ProviderPreset.named("openai-tier9") == nil)
        #expect(throws: UnknownPreset(name: "openai-tier9")) { try ProviderPreset(named: "openai-tier9") }
        #expect(UnknownPreset(name: "x").description.contains("azure-openai-30k"))
    }

    @Test("the budget split over keys follows the same rule: refill / keys, one second or one minute of it as burst")
    func clientLimitsSplitOverKeys() throws {
        let p = try ProviderPreset(named: "openai-gpt-4o-tier1")
        #expect(try p.clientLimits(keys: 1) == p.limits)
        #expect(try p.clientArithmetic(keys: 1) == p.arithmetic)
        let five = try p.clientLimits(keys: 5)
        #expect(five.requests?.refill == (try Rate(numerator: 4, denominator: 3)))        // 500 × 0.8 / 60 / 5
        #expect(five.requests?.capacity == 4.0 / 3)
        #expect(five.tokens?.refill == (try Rate(numerator: 80, denominator: 1)))         // 30,000 × 0.8 / 60 / 5
        #expect(five.tokens?.capacity == 4_800)
        #expect(try p.clientArithmetic(keys: 5)[0] == "requests: 500 RPM × 0.8 / 60 / 5 = 1.33/s; capacity max(1, 1 s of refill) = 1.33")
        // Below one request per second per key, the burst is one request.
        #expect(try ProviderPreset(named: "anthropic-sonnet-tier1").clientLimits(keys: 5).requests?.capacity == 1)
        let daily = try #require(try ProviderPreset(named: "openrouter-free").clientLimits(keys: 5).requestsPerDay)
        #expect(daily.capacity == 2)                                                       // 50 × 0.2 / 5
        #expect(throws: BucketError.invalidParameter(name: "keys", value: 0, requirement: ">= 1")) { try p.clientLimits(keys: 0) }
    }

    @Test func anthropicHasSeparateInputAndOutputBuckets() throws {
        let p = try #require(ProviderPreset.named("Anthropic Sonnet 4.x Tier 1"))
        #expect(p.limits.tokens == nil)
        #expect(p.limits.inputTokens?.capacity == 24_000)
        #expect(p.limits.outputTokens?.capacity == 6_400)
        #expect(p.limits.outputTokens?.refill.perSecond == 6_400.0 / 60)
        #expect(p.limits.requests?.capacity == 1)                 // 0.67/s: burst of one request
    }

    @Test("OpenRouter :free: 20 RPM and 50 a day; the daily burst plus a day of refill is the limit")
    func openRouterDaily() throws {
        let p = try #require(ProviderPreset.named("OpenRouter :free"))
        let daily = try #require(p.limits.requestsPerDay)
        #expect(daily.refill == (try Rate(numerator: 1, denominator: 2_160)))   // 40 per 86,400 s
        #expect(daily.capacity == 10)
        #expect(p.arithmetic.contains { $0.hasPrefix("requests per day: 50/day × 0.8 = 40/day") })
    }

    @Test func azureGrantsSixRPMPerThousandTPM() throws {
        let p = try ProviderPreset.azure(tokensPerMinute: 30_000)
        #expect(p.upstream.requestsPerMinute == 180)
        #expect(p.limits.requests?.refill == (try Rate(numerator: 12, denominator: 5)))   // 180 × 0.8 / 60 = 2.4
        #expect(throws: BucketError.invalidParameter(name: "tokens per minute", value: -1, requirement: "> 0")) {
            try ProviderPreset.azure(tokensPerMinute: -1)
        }
    }

    @Test func presetLimitsDriveALimiter() throws {
        var l = LLMLimiterState(try #require(ProviderPreset.named("OpenAI gpt-4o Tier 1")).limits)
        var admitted = 0
        while try l.tryAcquire(LLMRequest(promptTokens: 100, maxOutputTokens: 100), at: 0) != nil { admitted += 1 }
        #expect(admitted == 6)                                    // burst 6.67 requests
    }
}
