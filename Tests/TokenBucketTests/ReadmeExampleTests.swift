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
        provider = LLMLimiter(try ProviderPreset(named: "openai-gpt-4o-tier1").limits)
    }

    /// The HTTP status to answer with, and for a 429 when to retry.
    func handle(apiKey: String, promptTokens: Int, maxTokens: Int) async -> (status: Int, retryAfter: Duration?) {
        guard let request = try? LLMRequest(promptTokens: promptTokens, maxOutputTokens: maxTokens) else {
            return (400, nil)
        }
        do {
            // Wait for this key's turn (first come, first served), but fail at once,
            // taking nothing, if that would be more than 2 s away.
            try await perKey.acquire(1, for: apiKey, timeout: .seconds(2))
            // Reserve the estimate (prompt + max_tokens) in every dimension at once.
            let reservation: LLMReservation
            do {
                reservation = try await provider.acquire(request, timeout: .seconds(30))
            } catch {
                try? perKey.refund(1, for: apiKey)        // never sent: the key's turn back
                throw error
            }
            let used: Int
            do {
                used = try await callModel(promptTokens, maxTokens)
            } catch {
                provider.refund(reservation)              // failed: its token estimate back
                return (502, nil)
            }
            // Give back (or charge) the difference between the estimate and the real usage.
            try provider.reconcile(reservation, inputTokens: promptTokens, outputTokens: used)
            return (200, nil)
        } catch let error as BucketError where error.isLimit {
            return (429, error.retryAfter)                // a real limit: retry after that
        } catch is BucketError {
            return (413, nil)                             // more than a bucket can ever hold
        } catch {
            return (500, nil)
        }
    }
}
// README-EXAMPLE-END

/// Stands in for the upstream call: reports 57 completion tokens; a prompt of 13 tokens fails.
func callModel(_ prompt: Int, _ maxTokens: Int) async throws -> Int {
    if prompt == 13 { throw UpstreamFailure() }
    return min(57, maxTokens)
}

struct UpstreamFailure: Error {}

@Suite("README example")
struct ReadmeExampleTests {
    @Test("the example answers 200, then 429 with Retry-After at a real limit, 413 and 502, giving back on failure")
    func theExampleRunsAndLimits() async throws {
        let gateway = try Gateway()
        let tokens = { gateway.provider.available()[.tokens]! }
        // Within the burst: 200, and the estimate's unused part is given back.
        #expect(await gateway.handle(apiKey: "k", promptTokens: 10, maxTokens: 100).status == 200)
        #expect(tokens() > 24_000 - 67 - 1 && tokens() <= 24_000)
        // A real limit: 20,000 tokens are there once; the same again would take 40 s of refill
        // (400 tokens/s), more than the 30 s the gateway waits: 429, retry after about 40 s.
        #expect(await gateway.handle(apiKey: "k", promptTokens: 19_990, maxTokens: 10).status == 200)
        let before = tokens()
        let limited = await gateway.handle(apiKey: "k", promptTokens: 19_990, maxTokens: 10)
        #expect(limited.status == 429)
        let retry = try #require(limited.retryAfter)
        #expect(retry > .seconds(38) && retry <= .seconds(41))
        #expect(tokens() >= before)                                // the refused call took nothing
        // More than the tokens bucket can ever hold (24,000): not a limit, no retry helps.
        #expect(await gateway.handle(apiKey: "k", promptTokens: 30_000, maxTokens: 10) == (413, nil))
        // A caller bug is not a 429 either.
        #expect(await gateway.handle(apiKey: "k", promptTokens: -1, maxTokens: 10).status == 400)
        // The upstream call fails: 502, and its estimate comes back.
        let other = try Gateway()
        let full = other.provider.available()[.tokens]!
        #expect(await other.handle(apiKey: "k", promptTokens: 13, maxTokens: 1_000) == (502, nil))
        #expect(other.provider.available()[.tokens]! >= full - 1)
        // The per-key bucket limits too: 20 at once, the next ones wait their turn (5/s).
        let keyed = try Gateway()
        for _ in 0..<20 { #expect(try keyed.perKey.tryAcquire(1, for: "busy")) }
        #expect(!(try keyed.perKey.tryAcquire(1, for: "busy")))
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
