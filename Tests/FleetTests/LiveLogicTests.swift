import Testing
@testable import Fleet
import TokenBucket

// Live mode's pure parts, no clock: the draws it shares with the simulator and its upstream.

@Suite struct LiveClientDrawsMatchTheSimulator {
    static let arrivals: [Arrival] = [
        .steady(rate: 3), .poisson(rate: 2), .onOff(rate: 20, on: 2 * second, off: 8 * second),
        .ramp(from: 1, to: 10, over: 5 * second),
    ]

    /// A one-client scenario whose buckets never refuse, so every draw is the client's own.
    func scenario(_ arrival: Arrival, cost: CostModel = .request) -> Scenario {
        Scenario(name: "draws", limits: ClientLimits(perUser: BucketSpec(capacity: 1e9, refillPerSecond: 1e9)),
                 clients: [ClientSpec(name: "c", group: "g", arrival: arrival, cost: cost)])
    }

    @Test(arguments: arrivals)
    func arrivalsAreTheSimulatorsDrawForDraw(arrival: Arrival) throws {
        var core = try SimCore(scenario: scenario(arrival), seed: 9)
        var events = core.events
        var simFirst: Int64?
        while events.count > 0, simFirst == nil {
            let e = events.pop()
            if e.kind == .arrival { simFirst = e.time }
        }
        var rng = Xoshiro256(seed: 9, stream: 1)
        var phase: Int64 = 0
        var t = try #require(arrival.firstArrival(at: 0, rng: &rng, phase: &phase))
        #expect(t == simFirst)
        #expect(phase == core.clients[0].phase)
        for _ in 0..<1_000 {
            let sim = core.nextArrival(0, after: t)
            let live = arrival.next(after: t, phase: phase, rng: &rng)
            #expect(sim == live)
            t = try #require(live)
        }
    }

    @Test func closedLoopStaggerIsTheSimulatorsWithin10ms() throws {
        let core = try SimCore(scenario: scenario(.closedLoop(concurrency: 5, think: 0)), seed: 4)
        var simStarts: [Int64] = []
        var events = core.events
        while events.count > 0 { let e = events.pop(); if e.kind == .arrival { simStarts.append(e.time) } }
        var rng = Xoshiro256(seed: 4, stream: 1)
        let live = (0..<5).map { _ in Arrival.closedLoopStagger(at: 0, rng: &rng) }
        #expect(live.sorted() == simStarts.sorted())
        #expect(live.allSatisfy { $0 >= 0 && $0 < 10 * millisecond })
    }

    @Test(arguments: [CostModel.request, .fixed(2.5), .llm(.conversation), .llm(.code)])
    func costsAreTheSimulatorsDrawForDraw(cost: CostModel) throws {
        var core = try SimCore(scenario: scenario(.poisson(rate: 1), cost: cost), seed: 5)
        var rng = core.clients[0].rng
        for i in 0..<200 {
            core.startRequest(client: 0)
            let r = core.requests[i]
            let live = cost.draw(rng: &rng)
            #expect(live == RequestCost(units: r.costUnits, prompt: r.prompt, completion: r.completion))
        }
    }

    @Test func retriesFollowTheSDKPolicy() {
        var rng = Xoshiro256(seed: 1, stream: 1)
        let sdk = RetryPolicy.sdkDefault   // 2 retries, 0.5 s doubling, honours Retry-After
        #expect(sdk.delay(attempt: 0, retryAfter: 1_500 * millisecond, rng: &rng) == 1_500 * millisecond)
        let first = sdk.delay(attempt: 0, retryAfter: nil, rng: &rng)!
        #expect(first >= 375 * millisecond && first <= 500 * millisecond)
        let second = sdk.delay(attempt: 1, retryAfter: 61 * second, rng: &rng)!   // too long: backoff
        #expect(second >= 750 * millisecond && second <= 1_000 * millisecond)
        #expect(sdk.delay(attempt: 2, retryAfter: nil, rng: &rng) == nil)
        #expect(RetryPolicy.none.delay(attempt: 0, retryAfter: 1, rng: &rng) == nil)
        #expect(RetryPolicy.fixed(delay: 7, maxRetries: 1).delay(attempt: 0, retryAfter: nil, rng: &rng) == 7)
    }

}

@Suite struct LiveUpstreamTests {
    @Test func answers60AtOnceThen429WithARetryAfterOfOneSecond() throws {
        // 60 RPM: a bucket of 60 requests refilling 1 per second.
        var up = try LiveUpstream(spec: UpstreamSpec(limits: UpstreamLimits(requestsPerMinute: 60), ttft: 0.4...0.9), seed: 1)
        let cost = RequestCost(units: TokenUnits.perToken, prompt: 1, completion: 0)
        for _ in 0..<60 {
            guard case .answered(let latency) = up.call(cost, streams: false, at: 0) else { Issue.record("429 too early"); return }
            #expect(latency >= 400 * millisecond && latency <= 900 * millisecond)
        }
        #expect(up.call(cost, streams: false, at: 0) == .tooManyRequests(retryAfter: 1_000 * millisecond))
        // Retry-After is rounded up to a whole millisecond, as retry-after-ms carries it.
        #expect(up.call(cost, streams: false, at: 300_000_001) == .tooManyRequests(retryAfter: 700 * millisecond))
        if case .answered = up.call(cost, streams: false, at: 1_000 * millisecond) {} else { Issue.record("not admitted after 1 s") }
    }

    @Test func aRequestOverATokenLimitGets429WithoutRetryAfter() throws {
        var up = try LiveUpstream(spec: UpstreamSpec(limits: UpstreamLimits(tokensPerMinute: 1_000)), seed: 1)
        let big = RequestCost(units: 2_000 * TokenUnits.perToken, prompt: 1_500, completion: 500)
        #expect(up.call(big, streams: true, at: 0) == .tooManyRequests(retryAfter: nil))
    }

    @Test func streamingAnswersTakeTimeToFirstTokenPlusOutputOverSpeed() throws {
        var up = try LiveUpstream(spec: UpstreamSpec(ttft: 0.5...0.5, tokensPerSecond: 100...100), seed: 1)
        let cost = RequestCost(units: 300 * TokenUnits.perToken, prompt: 100, completion: 200)
        #expect(up.call(cost, streams: true, at: 0) == .answered(latency: 2_500 * millisecond))   // 0.5 + 200/100
        #expect(up.call(cost, streams: false, at: 0) == .answered(latency: 500 * millisecond))
    }
}
