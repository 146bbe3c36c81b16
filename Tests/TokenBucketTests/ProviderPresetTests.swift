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

    @Test func catalogueHasTheTableAndTheTutorialExamples() {
        let names = ProviderPreset.all.map(\.name)
        for name in ["OpenAI gpt-4o Tier 1", "OpenAI gpt-4o-mini Tier 1", "OpenAI gpt-4o Tier 2",
                     "Anthropic Sonnet 4.x Tier 1", "Anthropic Haiku 4.5 Tier 1", "OpenRouter :free",
                     "Azure OpenAI 10,000 TPM", "OpenAI Tier 2", "Anthropic Build 1", "OpenRouter Free"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(Set(names).count == names.count)                 // names are unique keys
        for p in ProviderPreset.tutorialExamples {
            #expect(p.tutorial != nil)
            #expect(p.tutorial?.published == nil)                 // not known to us: not invented
        }
        #expect(ProviderPreset.tutorialRuleViolation.derived == "500 RPM × 0.8 / 60 = 6.67/s")
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
