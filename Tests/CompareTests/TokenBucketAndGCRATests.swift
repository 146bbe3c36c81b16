import Compare
import Testing
import TokenBucket

@Suite struct TokenBucketAndGCRATests {
    // Capacity 10, refill 2/s, full at 0.
    let trace = [req(0, 10), req(0, 1), req(0.5, 1), req(0.5, 0.5), req(5.5, 10), req(5.6, 0.2), req(5.6, 0.1)]
    // 0: takes all 10 → 0 left; refused; 0.5: 1 refilled, taken; 0 left: refused;
    // 5.5: 10 refilled (capped), taken; 5.6: 0.2 refilled, taken; then 0 left: refused.
    let expected: [Double?] = [0, nil, 0.5, nil, 5.5, 5.6, nil]

    @Test func tokenBucketAdmitsWhatIsInTheBucket() throws {
        var tb = TokenBucketLimiter(try BucketConfiguration(capacity: 10, refillPerSecond: 2))
        #expect(admissions(&tb, trace) == expected)
    }

    @Test func gcraVirtualSchedulingMatchesTheHandTrace() throws {
        var g = try GCRALimiter(rate: Rate(perSecond: 2), capacity: tok(10))
        #expect(admissions(&g, trace) == expected)
    }

    @Test func aCostAboveCapacityIsRefused() throws {
        var tb = TokenBucketLimiter(try BucketConfiguration(capacity: 10, refillPerSecond: 2))
        var g = try GCRALimiter(rate: Rate(perSecond: 2), capacity: tok(10))
        #expect(tb.decide(req(0, 10.5)) == .refuse)
        #expect(g.decide(req(0, 10.5)) == .refuse)
    }

    @Test(arguments: [(1.0, 0.8), (5.5, 7.0 / 3), (40.0, 1000.0), (3.0, 0.3)] as [(Double, Double)])
    func gcraDecidesExactlyAsTheTokenBucket(capacity: Double, rate: Double) throws {
        for seed in UInt64(1)...20 {
            var tb = TokenBucketLimiter(try BucketConfiguration(capacity: capacity, refillPerSecond: rate))
            var g = try GCRALimiter(rate: Rate(perSecond: rate), capacity: tok(capacity))
            let trace = randomTrace(seed: seed, n: 2_000, maxGap: Int64(2e9 / rate), maxCost: Int64(capacity * 10))
            var admitted = 0
            for r in trace {
                let a = tb.decide(r), b = g.decide(r)
                #expect(a == b)
                if a != b { return }
                if a.isAdmitted { admitted += 1 }
            }
            // Both outcomes happen, or the comparison would prove little.
            #expect(admitted > 100 && admitted < 1_900)
        }
    }
}
