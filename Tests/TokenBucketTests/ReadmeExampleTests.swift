import Foundation
import Testing
import TokenBucket

// README-EXAMPLE-START
import TokenBucket

/// A gateway in front of an LLM API: one bucket per API key, and the provider's
/// requests-per-minute and tokens-per-minute limits together.
final class Gateway: Sendable {
    let perKey: KeyedBuckets<String>
    let provider: LLMLimiter

    init() throws {
        // Each API key: bursts of 20 requests, then 5 per second.
        perKey = try KeyedBuckets(capacity: 20, refillPerSecond: 5)
        // 80 % of OpenAI gpt-4o Tier 1 (500 RPM, 30,000 TPM): 6.67 requests/s, 400 tokens/s.
        provider = LLMLimiter(ProviderPreset.named("OpenAI gpt-4o Tier 1")!.limits)
    }

    /// Returns the HTTP status to answer with.
    func handle(apiKey: String, promptTokens: Int, maxTokens: Int) async throws -> Int {
        do {
            // Wait for this key's turn (first come, first served), but fail at once,
            // taking nothing, if that would be more than 2 s away.
            try await perKey.acquire(1, for: apiKey, timeout: .seconds(2))
            // Reserve the estimate (prompt + max_tokens) in every dimension at once.
            let request = try LLMRequest(promptTokens: promptTokens, maxOutputTokens: maxTokens)
            let reservation = try await provider.acquire(request, timeout: .seconds(30))
            let used = try await callModel(promptTokens, maxTokens)
            // Give back (or charge) the difference between the estimate and the real usage.
            try provider.reconcile(reservation, inputTokens: promptTokens, outputTokens: used)
            return 200
        } catch is BucketError {
            return 429
        }
    }
}
// README-EXAMPLE-END

/// Stands in for the upstream call: reports 57 completion tokens.
func callModel(_ prompt: Int, _ maxTokens: Int) async throws -> Int { min(57, maxTokens) }

@Suite("README example")
struct ReadmeExampleTests {
    @Test func theExampleRunsAndLimits() async throws {
        let gateway = try Gateway()
        // The first 6 requests pass at once: every bucket starts full, and the provider's
        // request bucket holds one second of refill (6.67). More would wait on the real clock.
        for _ in 0..<6 {
            #expect(try await gateway.handle(apiKey: "k", promptTokens: 10, maxTokens: 10) == 200)
        }
        // A cost above a dimension's capacity (24,000 tokens) is refused at once: 429.
        #expect(try await gateway.handle(apiKey: "other", promptTokens: 30_000, maxTokens: 10) == 429)
    }

    @Test func theReadmeShowsExactlyThisCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        let source = try String(contentsOf: here, encoding: .utf8)
        let readme = try String(contentsOf: here.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let start = source.range(of: "// README-EXAMPLE-START\n")!.upperBound
        let end = source.range(of: "// README-EXAMPLE-END")!.lowerBound
        let example = String(source[start..<end])
        #expect(readme.contains("```swift\n" + example + "```"))
    }
}
