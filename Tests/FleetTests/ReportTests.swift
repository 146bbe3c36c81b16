import Foundation
import Testing
@testable import Fleet
import TokenBucket

/// What `run` prints says everything: every request is somewhere, tuned values say so, and no
/// figure claims more precision than its histogram has.
@Suite struct ReportTests {
    @Test(arguments: Scenario.builtIn.map(\.name), Keying.allCases)
    func everyRequestIsInOneColumnOfItsGroupAndItsKey(name: String, keying: Keying) throws {
        let r = try run(name, keying: keying, for: 20 * second).report()
        for g in r.groups {
            #expect(g.requests == g.admitted + g.rejected + g.timedOut + g.waiting, "\(name) \(keying) \(g.name)")
        }
        for k in r.keys {
            #expect(k.requests == k.admitted + k.rejected + k.timedOut + k.moved + k.waiting, "\(name) \(keying) \(k.key)")
        }
    }

    @Test func theNoisyNeighboursWaitingRequestsAreShownAndTheirWaitsAreLowerBounds() throws {
        let r = try run("noisy-neighbor", for: 10 * second).report()
        let noisy = group(r, "noisy")
        // 100 requests always outstanding on a bucket of 2/s: almost all of them wait at the end.
        #expect(noisy.waiting >= 90)
        #expect(noisy.requests == noisy.admitted + noisy.waiting)
        #expect(noisy.waitMs.lowerBound)
        #expect(!group(r, "quiet").waitMs.lowerBound || group(r, "quiet").waiting > 0)
        let table = r.table()
        #expect(table.contains("waiting"))
        #expect(table.contains("≥: requests still waiting counted with their wait so far"))
        #expect(r.json().contains("\"lower_bound\": true"))
    }

    @Test func percentilesCarryTheHistogramsThreeSignificantDigitsAndMaxIsExact() throws {
        let r = try run("noisy-neighbor", for: 30 * second).report()
        for g in r.groups {
            for p in [g.waitMs.p50, g.waitMs.p90, g.waitMs.p99] {
                #expect(p == NumberText.roundedToSignificant(p, 3), "\(g.name) \(p)")
            }
        }
        #expect(r.groups.allSatisfy { $0.waitMs.p99 <= $0.waitMs.max })
        #expect(WaitPercentiles(p99: 2806.26, max: 2806.26).honest.p99 == 2800)   // never above the exact max
        #expect(NumberText.significant(20971.519, 3) == "21000")
        #expect(NumberText.significant(0.13749, 3) == "0.137")
        #expect(NumberText.significant(1.5, 3) == "1.5")
    }

    @Test func theRefillColumnSaysWhenTheTuningRuleMovedIt() throws {
        let r = try run("upstream-429", for: 60 * second).report()
        let k = r.keys[0]
        let from = try #require(k.tunedFromRefillPerSecond)
        #expect(from == 3)
        #expect(k.refillPerSecond < 3)
        #expect(r.table().contains("\(fmt(k.refillPerSecond)) (tuned from 3)"))
        #expect(r.json().contains("\"tuned_from_refill_per_s\": 3"))
        // Without tuning, no such label.
        #expect(try run("noisy-neighbor", for: 2 * second).report().keys.allSatisfy { $0.tunedFromRefillPerSecond == nil })
    }

    @Test func csvHasEveryColumnAndNamesTheProviderRow() throws {
        let r = try run("upstream-429", seed: 7, for: 20 * second).report()
        let lines = r.csv().split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        for c in ["waiting", "moved", "completed", "failed", "seed", "keying", "scenario", "wait_lower_bound",
                  "tuned_from_refill_per_s"] {
            #expect(header.contains(c), "\(c)")
        }
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == header.count })
        func col(_ row: [String], _ name: String) -> String { row[header.firstIndex(of: name)!] }
        let up = try #require(rows.first { $0[0] == "upstream" })
        #expect(up[1] == "provider")
        #expect(col(up, "completed") == "\(r.upstream.completed)" && col(up, "failed") == "\(r.upstream.failed)")
        #expect(rows.allSatisfy { col($0, "seed") == "7" && col($0, "keying") == "per-user" })
        let g = try #require(rows.first { $0[0] == "group" })
        #expect(Int(col(g, "requests")) == Int(col(g, "admitted"))! + Int(col(g, "rejected"))! + Int(col(g, "timed_out"))!
                + Int(col(g, "waiting"))!)
    }

    @Test func aGroupWhoseCostsExceedItsBucketIsNamedInAWarning() throws {
        let s = Scenario(name: "too-big", limits: ClientLimits(perUser: BucketSpec(capacity: 20, refillPerSecond: 5)),
                         clients: [ClientSpec(name: "paying", group: "paying", count: 2, arrival: .poisson(rate: 1), cost: .fixed(1_000)),
                                   ClientSpec(name: "ok", group: "ok", arrival: .poisson(rate: 1))])
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 5 * second)
        let expected = "every `paying` request costs ~1000 tokens > capacity 20: all refused"
        #expect(sim.snapshot().warnings == [expected])
        let r = sim.report()
        #expect(r.warnings == [expected])
        #expect(group(r, "paying").admitted == 0 && group(r, "paying").rejected == group(r, "paying").requests)
        #expect(r.table().contains("warning: " + expected))
        #expect(try run("noisy-neighbor", for: second).snapshot().warnings.isEmpty)
    }
}

@Suite struct WaitRecorderTests {
    /// Counting waiting requests by merging ranks gives what recording them would give (within
    /// the histogram's 1 %), without touching the recorded waits.
    @Test func pendingWaitsCountAsIfTheyHadBeenRecorded() {
        var rng = Xoshiro256(seed: 3, stream: 1)
        for (recordedCount, zerosEvery, pendingCount) in [(0, 1, 5), (1_000, 3, 5), (1_000, 1_000_000, 30), (50, 2, 20), (200, 1, 1)] {
            var w = WaitRecorder()
            for i in 0..<recordedCount { w.record(i % zerosEvery == 0 ? 0 : Int64(rng.uniform(1e5, 3e9))) }
            let pending = (0..<pendingCount).map { _ in Int64(rng.uniform(0, 5e9)) }
            let merged = w.percentiles(includingPending: pending)
            var all = w
            for p in pending { all.record(p) }
            let recorded = all.percentiles()
            for (a, b) in [(merged.p50, recorded.p50), (merged.p90, recorded.p90), (merged.p99, recorded.p99), (merged.max, recorded.max)] {
                #expect(abs(a - b) <= 0.011 * Swift.max(a, b) + 0.002, "\(recordedCount) \(pendingCount): \(a) vs \(b)")
            }
            #expect(merged.lowerBound)
            #expect(w.count == UInt64(recordedCount))   // untouched
        }
    }
}
