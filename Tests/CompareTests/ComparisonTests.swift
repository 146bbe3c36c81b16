import Compare
import Testing
import TokenBucket

@Suite struct WindowPeakTests {
    @Test func matchesABruteForceOverEveryWindow() {
        for seed in UInt64(1)...20 {
            let trace = randomTrace(seed: seed, n: 400, maxGap: 300_000_000)
            let w = s(1)
            var peak = WindowPeak(window: w)
            for r in trace { peak.add(at: r.at, cost: r.cost) }
            // Every window [a, a + w) with a at any instant where the sum can change.
            var best: Int64 = 0
            let starts = Set(trace.flatMap { [$0.at, $0.at - w + 1] })
            for a in starts {
                best = max(best, trace.filter { $0.at >= a && $0.at < a + w }.reduce(0) { $0 + $1.cost })
            }
            #expect(peak.peak == best)
        }
    }
}

@Suite struct ComparisonTests {
    func budget() throws -> Budget {
        try Budget(rate: Rate(perSecond: 5), burst: tok(5), window: s(1), concurrency: tok(3))
    }

    /// Two keys: "a" bursts 12 around a window boundary, "b" sends one per second.
    func traffic() -> Traffic {
        var t = Traffic()
        for i in 0..<6 { t.append(at: s(0.9) + Int64(i), key: "a", cost: tok(1), service: s(0.5)) }
        t.append(at: s(1.0), key: "b", cost: tok(1), service: s(0.5))
        for i in 0..<6 { t.append(at: s(1.0) + Int64(i + 1), key: "a", cost: tok(1), service: s(0.5)) }
        t.append(at: s(2.0), key: "b", cost: tok(1), service: s(0.5))
        return t
    }

    @Test func boundaryBurstShowsInMaxInWindowAndDisagreement() throws {
        var run = try Comparison(algorithms: [.fixedWindow, .slidingLog, .tokenBucket], budget: try budget())
        for r in traffic().requests { run.feed(r) }
        let rows = run.results()
        let fixed = rows[0], log = rows[1], bucket = rows[2]
        // Fixed window: 5 before 1.0 s and 5 after; the log: 5 in any second.
        #expect(fixed.maxInWindow == tok(10))
        #expect(log.maxInWindow == tok(5))
        #expect(fixed.admitted == 12 && log.admitted == 7)
        #expect(fixed.wronglyAdmitted == 5 && fixed.wronglyRefused == 0)
        #expect(log.wronglyAdmitted == 0 && log.wronglyRefused == 0)
        // The bucket (capacity 5, 5/s) refills 0.5 token in 0.1 s: 5 then nothing whole.
        #expect(bucket.admitted == 7 && bucket.maxInWindow == tok(5))
        #expect(rows.allSatisfy { $0.requests == 14 })
    }

    @Test func oneSharedLimiterCountsAllKeysTogether() throws {
        var run = try Comparison(algorithms: [.slidingLog], budget: try budget(), perKey: false)
        for r in traffic().requests { run.feed(r) }
        let row = run.results()[0]
        // 5 of "a" at 0.9; at 1.0 "b" and "a" find the window full until 1.9; "b" at 2.0 passes.
        #expect(row.admitted == 6)
        #expect(row.maxInWindow == tok(5))
    }

    @Test func jainIndexIsOneForEqualSharesAndOneOverNForOneKey() {
        #expect(Comparison.jain(admitted: [5, 10], requested: [10, 20]) == 1)
        #expect(Comparison.jain(admitted: [10, 0, 0, 0], requested: [10, 10, 10, 10]) == 0.25)
        #expect(abs(Comparison.jain(admitted: [1, 1], requested: [1, 2]) - 0.9) < 1e-12)   // (1.5)² / (2 × 1.25)
    }

    @Test func waitsComeFromTheQueue() throws {
        var run = try Comparison(algorithms: [.leakyQueue, .tokenBucket], budget: try budget())
        var t = Traffic()
        for _ in 0..<5 { t.append(at: 0, key: "a", cost: tok(1), service: 0) }
        for r in t.requests { run.feed(r) }
        let rows = run.results()
        // Drain 5/s: waits 0, 0.2, 0.4, 0.6, 0.8 s. p50 is the third, p99 the fifth.
        #expect(rows[0].waitP50 == s(0.4) && rows[0].waitP99 == s(0.8) && rows[0].waitMax == s(0.8))
        #expect(rows[1].waitP99 == 0)
    }
}

@Suite struct CompareReportTests {
    @Test func tableLinesUpTheNumbersOfEachAlgorithm() throws {
        let budget = try Budget(rate: Rate(perSecond: 5), burst: tok(5), window: s(1), concurrency: tok(3))
        var t = Traffic()
        // Six requests in 0.1 s across the 1 s boundary: the fixed window admits all six.
        for i in 0..<6 { t.append(at: s(0.95) + s(0.02) * Int64(i), key: "a", cost: tok(1), service: 0) }
        var run = try Comparison(algorithms: [.fixedWindow, .slidingLog], budget: budget)
        for r in t.requests { run.feed(r) }
        let table = CompareReport(source: "hand", traffic: t, comparison: run).table()
        #expect(table == """
            hand: 6 requests, 1 keys, over 0.1 s
            rate 5/s, burst 5, window 1s (5 per window), concurrency 3; one limiter per key

            algorithm     parameters  admitted  refused  wait p50 ms  wait p99 ms  max in 1s  wrong admit %  wrong refuse %  state B/key  Jain
            fixed-window  5 per 1s           6        0            0            0          6         16.667               0           16     1
            sliding-log   5 per 1s           5        1            0            0          5              0               0           80     1

            """)
    }
}
