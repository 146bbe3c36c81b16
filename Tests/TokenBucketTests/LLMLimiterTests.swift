import Testing
@testable import TokenBucket

@Suite("LLM limits")
struct LLMLimiterTests {
    /// 60 RPM (1/s, burst 2) and 6,000 TPM (100/s, burst 1,000).
    func limiter() throws -> LLMLimiterState {
        LLMLimiterState(try LLMLimits(
            requests: BucketConfiguration(capacity: 2, refillPerSecond: 1),
            tokens: BucketConfiguration(capacity: 1_000, refillPerSecond: 100)))
    }

    @Test func reservesTheEstimateInEveryDimension() throws {
        var l = try limiter()
        let r = try l.reserve(LLMRequest(promptTokens: 300, maxOutputTokens: 200), at: 0)
        #expect(r.admitAt == 0)
        #expect(l.available(at: 0) == [.requests: 1, .tokens: 500])
    }

    @Test("all or nothing: a request the token bucket refuses takes no request either")
    func allOrNothing() throws {
        var l = try limiter()
        #expect(try l.tryAcquire(LLMRequest(promptTokens: 700, maxOutputTokens: 200), at: 0) != nil)
        #expect(try l.tryAcquire(LLMRequest(promptTokens: 100, maxOutputTokens: 100), at: 0) == nil)   // 100 tokens left
        #expect(l.available(at: 0) == [.requests: 1, .tokens: 100])
        #expect(try l.tryAcquire(LLMRequest(promptTokens: 50, maxOutputTokens: 50), at: 0) != nil)
        #expect(try l.tryAcquire(LLMRequest(promptTokens: 1, maxOutputTokens: 1), at: 0) == nil)       // no request left
        #expect(l.available(at: 0)[.tokens] == 0)
    }

    @Test("a queued request is admitted when every dimension admits it")
    func admittedWhenAllAdmit() throws {
        var l = try limiter()
        _ = try l.reserve(LLMRequest(promptTokens: 900, maxOutputTokens: 100), at: 0)
        _ = try l.reserve(LLMRequest(promptTokens: 10, maxOutputTokens: 10), at: 0)   // requests: 0, tokens: at 0.2 s
        let third = try l.reserve(LLMRequest(promptTokens: 10, maxOutputTokens: 10), at: 0)
        // Tokens would allow 0.4 s; the request bucket (2, 1/s) only at 1 s.
        #expect(third.admitAt == second)
        let big = try l.reserve(LLMRequest(promptTokens: 800, maxOutputTokens: 200), at: 0)
        // Requests: 2 s. Tokens: 40 + 1,000 owed since 0 at 100/s ≈ 10.4 s.
        #expect(big.admitAt == 10_400 * millisecond)
    }

    @Test("reconcile refunds an overestimate and charges an underestimate")
    func reconcile() throws {
        var l = try limiter()
        let r = try l.reserve(LLMRequest(promptTokens: 300, maxOutputTokens: 500), at: 0)
        #expect(l.available(at: 0)[.tokens] == 200)
        let adjust = try l.reconcile(r, inputTokens: 300, outputTokens: 120, at: 0)
        #expect(adjust == [.tokens: -380])
        #expect(l.available(at: 0)[.tokens] == 580)
        let r2 = try l.reserve(LLMRequest(promptTokens: 100, maxOutputTokens: 100), at: 0)
        try l.reconcile(r2, inputTokens: 100, outputTokens: 900, at: 0)      // used 800 more than estimated
        #expect(l.bucket(.tokens)!.balance(at: 0) == -420)                    // in debt: later requests wait
        #expect(try l.admissionTime(for: LLMRequest(promptTokens: 80, maxOutputTokens: 0), at: 0) == 5 * second)
    }

    @Test func separateInputAndOutputLimits() throws {
        var l = LLMLimiterState(try LLMLimits(
            requests: BucketConfiguration(capacity: 1, refillPerSecond: 1),
            inputTokens: BucketConfiguration(capacity: 1_000, refillPerSecond: 100),
            outputTokens: BucketConfiguration(capacity: 200, refillPerSecond: 20)))
        let r = try l.reserve(LLMRequest(promptTokens: 600, maxOutputTokens: 200), at: 0)
        #expect(l.available(at: 0) == [.requests: 0, .inputTokens: 400, .outputTokens: 0])
        try l.reconcile(r, inputTokens: 650, outputTokens: 50, at: 0)
        #expect(l.available(at: 0) == [.requests: 0, .inputTokens: 350, .outputTokens: 150])
    }

    @Test func cancellingTheLatestReservationGivesEverythingBack() throws {
        var l = try limiter()
        _ = try l.reserve(LLMRequest(promptTokens: 900, maxOutputTokens: 100), at: 0)
        var r = try l.reserve(LLMRequest(promptTokens: 400, maxOutputTokens: 100), at: 0)
        #expect(r.admitAt == 5 * second)
        #expect(l.cancel(&r, at: second) == [.requests: 1, .tokens: 500])
        #expect(l.available(at: second) == [.requests: 2, .tokens: 100])
    }

    @Test func estimateAboveATokenCapacityFailsAtOnce() throws {
        var l = try limiter()
        #expect(throws: BucketError.costExceedsCapacity(cost: 1_500, capacity: 1_000)) {
            try l.reserve(LLMRequest(promptTokens: 1_000, maxOutputTokens: 500), at: 0)
        }
        #expect(l.available(at: 0) == [.requests: 2, .tokens: 1_000])
    }

    @Test func asyncLimiterWaitsAndReconciles() async throws {
        let clock = ManualClock()
        let l = LLMLimiter(try LLMLimits(
            requests: BucketConfiguration(capacity: 1, refillPerSecond: 1),
            tokens: BucketConfiguration(capacity: 1_000, refillPerSecond: 100)), clock: clock)
        let first = try await l.acquire(LLMRequest(promptTokens: 500, maxOutputTokens: 500))
        #expect(first.admitAt == 0)
        let task = Task { try await l.acquire(LLMRequest(promptTokens: 100, maxOutputTokens: 100)) }
        await clock.waitForSleepers(1)
        #expect(l.waiters == 1)
        // Planned at 2 s (200 tokens at 100/s); 400 tokens back re-plan it: the request
        // bucket (1/s) binds now, at 1 s.
        try l.reconcile(first, inputTokens: 500, outputTokens: 100)
        clock.advance(by: .seconds(2))
        #expect(try await task.value.admitAt == 1 * second)
        #expect(try await l.acquire(LLMRequest(promptTokens: 1, maxOutputTokens: 1)).admitAt == 2 * second)
        await #expect(throws: BucketError.deadlineExceeded(wouldAdmitAfter: .seconds(1), allowed: .milliseconds(500))) {
            try await l.acquire(LLMRequest(promptTokens: 1, maxOutputTokens: 1), timeout: .milliseconds(500))
        }
    }
}
