import Synchronization
import Testing
@testable import TokenBucket

@Suite("FastClock")
struct FastClockTests {
    @Test("the tick → ns conversion is exact integer arithmetic: a 3 GHz counter is within 5 ns of exact after an hour")
    func conversionIsExact() {
        // 3 GHz: 1/3 ns per tick, not representable; the multiplier is floor(2^40 / 3).
        let mult = TSCCalibration.multiplier(ns: 1_000_000_000, ticks: 3_000_000_000)
        #expect(mult == (UInt64(1) << 40) / 3)
        let c = TSCCalibration(baseTSC: 1_000, baseNs: 5, mult: mult)
        // Every reading is floor((tsc − base) × mult / 2^40) + 5, whatever came before it:
        // nothing accumulates from one reading to the next.
        var previous = c.nanoseconds(at: 1_000)
        #expect(previous == 5)
        var rng = SeededGenerator(seed: 7)
        var tsc: UInt64 = 1_000
        for _ in 0..<100_000 {
            tsc += rng.next() % 1_000_000
            let ns = c.nanoseconds(at: tsc)
            let exact = (UInt128(tsc - 1_000) * UInt128(mult)) >> 40
            #expect(ns == 5 + Int64(exact))
            #expect(ns >= previous)
            previous = ns
        }
        // Against the true rate (tsc / 3 exactly): below it by under 5 ns after an hour and
        // 30 µs after a year (2^-40 relative; no overflow: a 128-bit product).
        for (ticks, bound) in [(UInt64(3_000_000_000) * 3_600, Int64(5)), (UInt64(3_000_000_000) * 86_400 * 365, Int64(30_000))] {
            let exact = Int64(ticks / 3)
            let ns = c.nanoseconds(at: 1_000 + ticks) - 5
            #expect(ns <= exact && exact - ns < bound, "\(ticks) ticks: \(ns) vs \(exact)")
        }
        #expect(c.nanoseconds(at: 10) == 5)                 // a counter before the base reads as the base
    }

    @Test("recalibration never steps back and slews toward the OS clock within one interval")
    func recalibrationIsContinuousAndConverges() {
        let mult = TSCCalibration.multiplier(ns: 1, ticks: 2)          // a 2 GHz counter
        let c = TSCCalibration(baseTSC: 0, baseNs: 0, mult: mult)
        let tsc: UInt64 = 2_000_000_000                                 // 1 s in
        let reading = c.nanoseconds(at: tsc)
        let interval: UInt64 = 2_000_000_000                            // the next second
        for (osOffset, expectedGap) in [(Int64(500_000), Int64(0)), (-500_000, 0), (-5_000_000, -4_000_000), (3_000_000, 2_000_000)] {
            let os = reading + osOffset
            let next = c.recalibrated(tsc: tsc, osNs: os, trueMult: mult, interval: interval)
            #expect(next.nanoseconds(at: tsc) == reading)              // continuous: no step
            // One interval later the reading meets the OS clock (to a few ns), or, beyond the
            // 1,000 ppm slew, has covered 1 ms of the gap.
            let later = next.nanoseconds(at: tsc + interval)
            let osLater = os + 1_000_000_000
            #expect(abs((osLater - later) - expectedGap) <= 2, "offset \(osOffset): gap \(osLater - later)")
            #expect(later > reading)                                    // time still moves forward
        }
        // An OS clock far ahead (a suspended VM resumed) is followed at once.
        let jumped = c.recalibrated(tsc: tsc, osNs: reading + 50_000_000, trueMult: mult, interval: interval)
        #expect(jumped.nanoseconds(at: tsc) == reading + 50_000_000)
    }

    @Test("real time: readings are monotonic on every thread and follow ContinuousClock")
    func realTimeMonotonicAndFollowsContinuousClock() async {
        // Each FastClock reading is bracketed by two ContinuousClock readings, so a thread
        // descheduled between two reads widens the bracket instead of failing the test.
        let before = ContinuousClock.now
        let fastStart = FastClock().now
        let after = ContinuousClock.now
        let ok = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var last = FastClock.nanoseconds()
                    for _ in 0..<200_000 {
                        let t = FastClock.nanoseconds()
                        if t < last { return false }
                        last = t
                    }
                    return true
                }
            }
            return await group.allSatisfy { $0 }
        }
        #expect(ok)
        try? await Task.sleep(for: .milliseconds(30))
        let endBefore = ContinuousClock.now
        let fast = fastStart.duration(to: FastClock().now)
        let endAfter = ContinuousClock.now
        // FastClock's elapsed time lies between the shortest and the longest the brackets allow,
        // within calibration error (1 ms + 1 %).
        let shortest = after.duration(to: endBefore), longest = before.duration(to: endAfter)
        let slack = .milliseconds(1) + longest / 100
        #expect(fast >= shortest - slack && fast <= longest + slack,
                "fast \(fast) outside [\(shortest), \(longest)]")
    }
}
