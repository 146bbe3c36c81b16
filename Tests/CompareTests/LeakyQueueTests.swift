import Compare
import Testing
import TokenBucket

@Suite struct LeakyQueueTests {
    @Test func requestsLeaveOneDrainIntervalApartUntilTheQueueIsFull() throws {
        // Drain 2/s (one every 0.5 s), queue limit 2 waiting ahead (nginx rate=2r/s burst=2).
        var lb = try LeakyQueueLimiter(rate: Rate(perSecond: 2), queueLimit: tok(2))
        let got = admissions(&lb, [req(0), req(0), req(0), req(0), req(1.0), req(3.0)])
        // Four at 0: the first leaves at once, then 0.5 s and 1 s (1 and 2 ahead), the fourth
        // would have 3 ahead: refused. At 1.0 the next free slot is 1.5 (1 ahead). At 3.0 idle.
        #expect(got == [0, 0.5, 1.0, nil, 1.5, 3.0])
    }

    @Test func costsSpaceTheDepartures() throws {
        var lb = try LeakyQueueLimiter(rate: Rate(perSecond: 4), queueLimit: tok(10))
        // A cost of 2 holds the output for 0.5 s, then a cost of 1 for 0.25 s.
        #expect(admissions(&lb, [req(0, 2), req(0, 1), req(0, 1)]) == [0, 0.5, 0.75])
    }

    @Test func withoutAQueueOnlyAnIdleBucketAdmits() throws {
        var lb = try LeakyQueueLimiter(rate: Rate(perSecond: 1), queueLimit: 0)
        #expect(admissions(&lb, [req(0), req(0.5), req(1.0)]) == [0, nil, 1.0])
    }

    @Test(arguments: [0.7, 3.0, 1000.0])
    func outputNeverExceedsTheDrainRate(rate: Double) throws {
        let r = try Rate(perSecond: rate)
        for seed in UInt64(1)...10 {
            var lb = try LeakyQueueLimiter(rate: r, queueLimit: tok(25))
            var departures: [(at: Int64, cost: Int64)] = []
            for q in randomTrace(seed: seed, n: 1_500, maxGap: Int64(3e9 / rate)) {
                if let at = lb.decide(q).admittedAt { departures.append((at, q.cost)) }
            }
            #expect(departures.count > 100)
            // Between departures i < j, the cost that left before j is at most rate × (D_j − D_i),
            // up to the 1 ns rounding of D_i: Σ c × q < (D_j − D_i + 1) × p.
            let p = Int128(r.numerator), qd = Int128(r.denominator)
            for i in departures.indices {
                var cost: Int128 = 0
                for j in (i + 1)..<min(departures.count, i + 60) {
                    cost += Int128(departures[j - 1].cost)
                    #expect(cost * qd < Int128(departures[j].at - departures[i].at + 1) * p)
                }
            }
        }
    }
}
