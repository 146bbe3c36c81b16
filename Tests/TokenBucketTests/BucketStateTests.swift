import Testing
@testable import TokenBucket


@Suite("BucketState basics")
struct BucketStateTests {
    @Test func startsFullAndNeverExceedsCapacity() throws {
        var b = try BucketState(capacity: 10, refillPerSecond: 2)
        #expect(b.tokens(at: 0) == 10)
        #expect(b.tokens(at: 1000 * second) == 10)
        #expect(try b.tryAcquire(10, at: 0))
        #expect(!(try b.tryAcquire(1, at: 0)))
        #expect(b.tokens(at: second) == 2)
        #expect(b.tokens(at: 100 * second) == 10)
    }

    @Test func reservationQueuesBehindEarlierOnes() throws {
        var b = try BucketState(capacity: 10, refillPerSecond: 2)
        let r1 = try b.reserve(10, at: 0)
        let r2 = try b.reserve(4, at: 0)
        let r3 = try b.reserve(1, at: 0)
        #expect(r1.admitAt == 0)
        #expect(r2.admitAt == 2 * second)
        #expect(r3.admitAt == 2 * second + second / 2)
        #expect(b.deficit(at: 0) == 5)
    }

    @Test func largeRequestIsNotStarvedBySmallOnes() throws {
        var b = try BucketState(capacity: 10, refillPerSecond: 1)
        _ = try b.reserve(10, at: 0)
        let big = try b.reserve(10, at: 0)            // needs a full refill: 10 s
        #expect(big.admitAt == 10 * second)
        // A stream of small requests arriving later all queue behind it.
        for i in 1...20 {
            let small = try b.reserve(1, at: Nanoseconds(i) * second / 10)
            #expect(small.admitAt > big.admitAt)
        }
        // And tryAcquire never jumps the queue.
        #expect(!(try b.tryAcquire(0.5, at: 5 * second)))
    }

    @Test func oneThirdPerSecondIsExact() throws {
        var b = try BucketState(capacity: 1, refillPerSecond: 3)
        var last: Reservation? = nil
        for _ in 0..<300_001 { last = b.reserve(units: TokenUnits.perToken, at: 0) }
        // 300,000 tokens after the first take exactly 100,000 s.
        #expect(last!.admitAt == 100_000 * second)
    }

    @Test func cancellingTheTailGivesEverythingBack() throws {
        var b = try BucketState(capacity: 10, refillPerSecond: 1)
        let before = b
        var r = try b.reserve(3, at: 0)
        #expect(b.cancel(&r, at: 0) == 3)
        #expect(b.tokens(at: 0) == before.tokens(at: 0))
        #expect(b.cancel(&r, at: 0) == 0)   // twice gives nothing
    }

    @Test func cancellingInTheMiddleKeepsLaterPromisesConforming() throws {
        // The golang/go#69419 shape: capacity 1, three reservations of 1.
        var b = try BucketState(capacity: 1, refillPerSecond: 1)
        _ = try b.reserve(1, at: 0)                 // admitted at 0
        var r2 = try b.reserve(1, at: 0)            // 1 s
        let r3 = try b.reserve(1, at: 0)            // 2 s
        #expect(b.cancel(&r2, at: 0) == 0)          // r3 depends on r2's token being gone
        let r4 = try b.reserve(1, at: 0)
        #expect(r4.admitAt == 3 * second)           // never together with r3 at 2 s
        #expect(r3.admitAt == 2 * second)
    }

    @Test func cancellingAfterAdmissionGivesNothing() throws {
        var b = try BucketState(capacity: 5, refillPerSecond: 1)
        var r = try b.reserve(5, at: 0)
        #expect(b.cancel(&r, at: 1) == 0)
    }

    @Test func costAboveCapacityFailsAtOnce() throws {
        var b = try BucketState(capacity: 5, refillPerSecond: 1)
        #expect(throws: BucketError.costExceedsCapacity(cost: 6, capacity: 5)) { try b.reserve(6, at: 0) }
        #expect(throws: BucketError.costExceedsCapacity(cost: 6, capacity: 5)) { try b.tryAcquire(6, at: 0) }
    }

    @Test func reconfigureKeepsLevelAndCapsIt() throws {
        var b = try BucketState(capacity: 10, refillPerSecond: 1)
        #expect(try b.tryAcquire(4, at: 0))
        try b.reconfigure(capacity: 20, refillPerSecond: 2, at: 0)
        #expect(b.tokens(at: 0) == 6)
        #expect(b.tokens(at: second) == 8)
        try b.reconfigure(capacity: 5, refillPerSecond: 2, at: second)
        #expect(b.tokens(at: second) == 5)
    }

    @Test func reconfigureKeepsHandedOutReservationsFirst() throws {
        var b = try BucketState(capacity: 10, refillPerSecond: 1)
        _ = try b.reserve(10, at: 0)
        let r = try b.reserve(10, at: 0)            // 10 s
        try b.reconfigure(capacity: 100, refillPerSecond: 1, at: 0)
        let later = try b.reserve(1, at: 0)
        #expect(later.admitAt >= r.admitAt)
    }

    @Test func rationalRates() throws {
        #expect(try Rate(perSecond: 0.8) == Rate(numerator: 4, denominator: 5))
        #expect(try Rate(500, per: .seconds(60)) == Rate(numerator: 25, denominator: 3))
        #expect(try Rate(perSecond: 500.0 * 0.8 / 60) == Rate(numerator: 20, denominator: 3))
        #expect(try Rate(perSecond: 1000).denominator == 1)
    }
}
