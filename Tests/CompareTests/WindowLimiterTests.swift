import Compare
import Testing
import TokenBucket

@Suite struct FixedWindowTests {
    @Test func clockAlignedWindowsAdmitTwiceTheLimitAcrossABoundary() throws {
        var fw = try FixedWindowLimiter(limit: tok(5), window: s(1))
        var peak = WindowPeak(window: s(1))
        let burst = Array(repeating: req(0.9), count: 6) + Array(repeating: req(1.0), count: 6)
        let got = admissions(&fw, burst)
        // Five at 0.9 (the sixth refused), five more at 1.0 in the next window.
        #expect(got == Array(repeating: 0.9, count: 5) + [nil] + Array(repeating: 1.0, count: 5) + [nil])
        for (r, a) in zip(burst, got) where a != nil { peak.add(at: r.at, cost: r.cost) }
        #expect(peak.peak == 2 * tok(5))   // 10 within 0.1 s, a window of 1 s
    }

    @Test func firstRequestWindowsStartAtTheFirstRequest() throws {
        var fw = try FixedWindowLimiter(limit: tok(2), window: s(1), alignment: .firstRequest)
        // Window [0.3, 1.3): two admitted, 1.0 refused; 1.3 opens [1.3, 2.3).
        #expect(admissions(&fw, [req(0.3), req(0.8), req(1.0), req(1.3), req(1.4), req(2.29)]) == [0.3, 0.8, nil, 1.3, 1.4, nil])
    }

    @Test func countingRefusedRequestsOnlyMattersWhenTheyFitLater() throws {
        // Limit 3: a refused 2 counted leaves no room for a 1 that would have fitted.
        var plain = try FixedWindowLimiter(limit: tok(3), window: s(1))
        var counting = try FixedWindowLimiter(limit: tok(3), window: s(1), countRefused: true)
        let trace = [req(0, 2), req(0.1, 2), req(0.2, 1)]
        #expect(admissions(&plain, trace) == [0, nil, 0.2])
        #expect(admissions(&counting, trace) == [0, nil, nil])
    }
}

@Suite struct SlidingLogTests {
    @Test func admitsWhatFitsInTheLastWindow() throws {
        var log = try SlidingLogLimiter(limit: tok(2), window: s(1))
        // (t − 1 s, t]: at 0.999999999 both at 0 still count; at 1.0 they have left.
        #expect(admissions(&log, [req(0), req(0), req(0.999999999), req(1.0), req(1.5), req(1.6)]) == [0, 0, nil, 1.0, 1.5, nil])
    }

    @Test func countRefusedKeepsRefusedRequestsInTheLog() throws {
        var plain = try SlidingLogLimiter(limit: tok(2), window: s(1))
        var counting = try SlidingLogLimiter(limit: tok(2), window: s(1), countRefused: true)
        let trace = [req(0), req(0), req(0.5), req(1.2), req(1.2)]
        #expect(admissions(&plain, trace) == [0, 0, nil, 1.2, 1.2])
        #expect(admissions(&counting, trace) == [0, 0, nil, 1.2, nil])   // the refused 0.5 still counts at 1.2
    }

    @Test func neverExceedsTheLimitInAnyWindow() throws {
        for seed in UInt64(1)...10 {
            var log = try SlidingLogLimiter(limit: tok(8), window: s(2))
            let admitted = randomTrace(seed: seed, n: 1_500, maxGap: 200_000_000).filter { log.decide($0).isAdmitted }
            #expect(admitted.count > 100)
            // Brute force over every window [a, a + 2 s) starting at an admission.
            for i in admitted.indices {
                var sum: Int64 = 0
                var j = i
                while j < admitted.count, admitted[j].at < admitted[i].at + s(2) {
                    sum += admitted[j].cost
                    j += 1
                }
                #expect(sum <= tok(8))
            }
        }
    }
}

@Suite struct SlidingCounterTests {
    @Test func weighsThePreviousWindowByItsOverlap() throws {
        var sc = try SlidingCounterLimiter(limit: tok(10), window: s(1))
        // 10 at 0. At 1.5 the previous window weighs 0.5: 5 + 6 > 10 refused, 5 + 5 admitted.
        // At 2.0 the previous window (5) weighs 1: 5 + 6 > 10 refused, 5 + 5 admitted.
        // At 3.75: previous 5 × 0.25 = 1.25, + 8.75 = 10 admitted exactly, + 0.1 more refused.
        let got = admissions(&sc, [req(0, 10), req(1.5, 6), req(1.5, 5), req(2.0, 6), req(2.0, 5), req(3.75, 8.75), req(3.75, 0.1)])
        #expect(got == [0, nil, 1.5, nil, 2.0, 3.75, nil])
    }

    @Test func anEmptyWindowInBetweenForgetsTheOldCount() throws {
        var sc = try SlidingCounterLimiter(limit: tok(4), window: s(1))
        #expect(admissions(&sc, [req(0, 4), req(2.0, 4)]) == [0, 2.0])
    }
}

@Suite struct ConcurrencyTests {
    @Test func admitsWhileSlotsAreFree() throws {
        var cl = try ConcurrencyLimiter(cap: tok(2))
        // Two in progress until 1.0 and 1.5; the one at 0.9 finds none free; at 1.0 the first ended.
        let got = admissions(&cl, [req(0, service: 1), req(0.5, service: 1), req(0.9, service: 1), req(1.0, service: 1)])
        #expect(got == [0, 0.5, nil, 1.0])
    }

    @Test func inProgressNeverExceedsTheCap() throws {
        for seed in UInt64(1)...10 {
            var cl = try ConcurrencyLimiter(cap: tok(5))
            var admitted: [LimiterRequest] = []
            for r in randomTrace(seed: seed, n: 1_500, maxGap: 300_000_000) where cl.decide(r).isAdmitted {
                admitted.append(r)
                #expect(cl.inProgress <= tok(5))
            }
            #expect(admitted.count > 100)
            // Brute force: at every admission instant, the cost of admitted requests in progress.
            for a in admitted {
                let live = admitted.filter { $0.at <= a.at && a.at < $0.at + $0.service }.reduce(0) { $0 + $1.cost }
                #expect(live <= tok(5))
            }
        }
    }
}
