import Testing
@testable import TokenBucket

/// Bad numbers never hang or crash: each is a thrown error naming the parameter and the value.
@Suite("Bad parameters")
struct BadParameterTests {
    static let badCapacities: [Double] = [0, -5, .nan, .infinity, -.infinity, 2e9]
    static let badRefills: [Double] = [0, -1, .nan, .infinity, 1e-9, 2e9]
    static let badCosts: [Double] = [0, -1, .nan, .infinity, -.infinity, 1e-12]

    @Test(arguments: badCapacities)
    func capacity(_ value: Double) {
        #expect { try BucketConfiguration(capacity: value, refillPerSecond: 1) } throws: { error in
            guard case let .invalidParameter(name, v, _) = error as? BucketError else { return false }
            return name == "capacity" && (v == value || (v.isNaN && value.isNaN))
        }
    }

    @Test(arguments: badRefills)
    func refill(_ value: Double) {
        #expect { try BucketConfiguration(capacity: 1, refillPerSecond: value) } throws: { error in
            guard case let .invalidParameter(name, _, _) = error as? BucketError else { return false }
            return name == "refill"
        }
    }

    @Test func messagesSayWhatToFix() {
        #expect(BucketError.invalidParameter(name: "capacity", value: -5, requirement: "> 0").description
                == "capacity must be > 0, got -5")
        #expect(throws: BucketError.invalidParameter(name: "capacity", value: -5, requirement: "> 0")) {
            try Bucket(capacity: -5, refillPerSecond: 1)
        }
        #expect(throws: BucketError.invalidParameter(name: "refill", value: .infinity, requirement: "a finite number")) {
            try KeyedBucketState<String>(capacity: 1, refillPerSecond: .infinity)
        }
        #expect("\(BucketError.costExceedsCapacity(cost: 6, capacity: 5))" == "cost 6 exceeds capacity 5: it could never be admitted")
    }

    @Test(arguments: badCosts)
    func costEverywhere(_ cost: Double) async throws {
        func isCostError(_ error: any Error) -> Bool {
            guard case let .invalidParameter(name, _, _) = error as? BucketError else { return false }
            return name == "cost"
        }
        var state = try BucketState(capacity: 5, refillPerSecond: 1)
        #expect(performing: { try state.tryAcquire(cost, at: 0) }, throws: isCostError)
        #expect(performing: { try state.reserve(cost, at: 0) }, throws: isCostError)
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 5, refillPerSecond: 1, clock: clock)
        #expect(performing: { try bucket.tryAcquire(cost) }, throws: isCostError)
        await #expect(performing: { try await bucket.acquire(cost) }, throws: isCostError)
        await #expect(performing: { try await bucket.acquire(cost, timeout: .seconds(1)) }, throws: isCostError)
        var keyed = try KeyedBucketState<String>(capacity: 5, refillPerSecond: 1)
        #expect(performing: { try keyed.tryAcquire(cost, for: "a", at: 0) }, throws: isCostError)
        #expect(performing: { try keyed.reserve(cost, for: "a", at: 0) }, throws: isCostError)
        let shared = try KeyedBuckets<String>(capacity: 5, refillPerSecond: 1, clock: clock)
        await #expect(performing: { try await shared.acquire(cost, for: "a") }, throws: isCostError)
        #expect(keyed.count == 0)                                   // nothing stored for a refused key
        #expect(bucket.tokens == 5)
    }

    @Test func costAboveCapacityFailsAtOnceEverywhere() async throws {
        let expected = BucketError.costExceedsCapacity(cost: 6, capacity: 5)
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 5, refillPerSecond: 1, clock: clock)
        await #expect(throws: expected) { try await bucket.acquire(6) }
        #expect(throws: expected) { try bucket.tryAcquire(6) }
        var keyed = try KeyedBucketState<String>(capacity: 5, refillPerSecond: 1,
                                                 parent: BucketConfiguration(capacity: 100, refillPerSecond: 1))
        #expect(throws: expected) { try keyed.reserve(6, for: "a", parent: "t", at: 0) }
        // The parent's capacity bounds too.
        #expect(throws: BucketError.costExceedsCapacity(cost: 4, capacity: 3)) {
            var k = try KeyedBucketState<String>(capacity: 5, refillPerSecond: 1,
                                                 parent: BucketConfiguration(capacity: 3, refillPerSecond: 1))
            _ = try k.tryAcquire(4, for: "a", parent: "t", at: 0)
        }
        var llm = LLMLimiterState(try LLMLimits(tokens: BucketConfiguration(capacity: 100, refillPerSecond: 1)))
        #expect(throws: BucketError.costExceedsCapacity(cost: 101, capacity: 100)) {
            try llm.tryAcquire(LLMRequest(promptTokens: 100, maxOutputTokens: 1), at: 0)
        }
    }

    @Test func otherParameters() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 5, refillPerSecond: 1, clock: clock)
        await #expect(throws: BucketError.invalidParameter(name: "timeout", value: -1, requirement: ">= 0 seconds")) {
            try await bucket.acquire(1, timeout: .seconds(-1))
        }
        #expect(throws: BucketError.invalidParameter(name: "refund", value: .infinity, requirement: "a finite number >= 0")) {
            try bucket.refund(.infinity)
        }
        #expect(throws: BucketError.invalidParameter(name: "charge", value: -1, requirement: "a finite number >= 0")) {
            try bucket.charge(-1)
        }
        #expect(throws: BucketError.invalidParameter(name: "promptTokens", value: -3, requirement: ">= 0")) {
            try LLMRequest(promptTokens: -3, maxOutputTokens: 10)
        }
        #expect(throws: BucketError.invalidParameter(name: "promptTokens + maxOutputTokens", value: 0, requirement: "> 0")) {
            try LLMRequest(promptTokens: 0, maxOutputTokens: 0)
        }
        #expect(throws: BucketError.invalidParameter(name: "number of limited dimensions", value: 0, requirement: "at least 1")) {
            try LLMLimits()
        }
        var llm = LLMLimiterState(try LLMLimits(tokens: BucketConfiguration(capacity: 100, refillPerSecond: 1)))
        let r = try llm.reserve(LLMRequest(promptTokens: 10, maxOutputTokens: 10), at: 0)
        #expect(throws: BucketError.invalidParameter(name: "outputTokens", value: -1, requirement: ">= 0")) {
            try llm.reconcile(r, inputTokens: 10, outputTokens: -1, at: 0)
        }
        #expect(throws: BucketError.invalidParameter(name: "headroom", value: 1.5, requirement: "in (0, 1]")) {
            try ProviderPreset(name: "x", provider: "x", upstream: UpstreamLimits(requestsPerMinute: 10), headroom: 1.5)
        }
        #expect(performing: { try ProviderPreset(name: "x", provider: "x", upstream: UpstreamLimits(requestsPerMinute: .nan)) },
                throws: { "\($0)" == "requests limit must be a finite number, got NaN" })
        var keyed = try KeyedBucketState<String>(capacity: 5, refillPerSecond: 1)
        #expect(performing: { try keyed.tryAcquire(1, for: "a", parent: "t", at: 0) }, throws: { error in
            guard case let .invalidParameter(name, _, _) = error as? BucketError else { return false }
            return name == "parent key"
        })
        #expect(throws: BucketError.invalidParameter(name: "refill interval", value: 0, requirement: "> 0")) {
            try Rate(5, per: .zero)
        }
    }

    @Test("Retry-After in whole seconds rounds up, at least 1")
    func retryAfterSeconds() {
        #expect(BucketError.deadlineExceeded(wouldAdmitAfter: .milliseconds(2_001), allowed: .seconds(2)).retryAfterSeconds == 3)
        #expect(BucketError.deadlineExceeded(wouldAdmitAfter: .milliseconds(5), allowed: .zero).retryAfterSeconds == 1)
        #expect(BucketError.deadlineExceeded(wouldAdmitAfter: .seconds(40), allowed: .seconds(30)).retryAfterSeconds == 40)
        #expect(BucketError.costExceedsCapacity(cost: 2, capacity: 1).retryAfterSeconds == nil)
    }
}
