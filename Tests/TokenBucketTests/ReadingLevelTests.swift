import Testing
@testable import TokenBucket

/// The calls that also say what a key's bucket holds afterwards (``KeyedBuckets/tryTake(_:for:parent:)``,
/// ``KeyedBuckets/settle(reserved:used:for:parent:)``), and the exact `Int128` → `Double`
/// conversion every level read goes through.
@Suite("Reading levels with a change")
struct ReadingLevelTests {
    @Test("tryTake takes what tryAcquire would and returns the level after; nil when refused, nothing taken")
    func tryTakeReportsLevel() throws {
        let clock = ManualClock()
        let keyed = try KeyedBuckets<String>(capacity: 5, refillPerSecond: 1, clock: clock)
        #expect(try keyed.tryTake(2, for: "a") == 3)
        #expect(try keyed.tryTake(3, for: "a") == 0)
        #expect(try keyed.tryTake(1, for: "a") == nil)
        #expect(keyed.tokens(for: "a") == 0)
        clock.advance(by: .milliseconds(1_500))
        #expect(try keyed.tryTake(1, for: "a") == 0.5)
        #expect(try keyed.tryTake(1, for: "b") == 4)            // another key: its own full bucket
        #expect(throws: BucketError.self) { try keyed.tryTake(6, for: "a") }
    }

    @Test("tryTake with a parent: both must admit; the level is the key's")
    func tryTakeWithParent() throws {
        let keyed = try KeyedBuckets<String>(capacity: 10, refillPerSecond: 1,
                                             parent: BucketConfiguration(capacity: 4, refillPerSecond: 1), clock: ManualClock())
        #expect(try keyed.tryTake(3, for: "a", parent: "t") == 7)
        #expect(try keyed.tryTake(2, for: "b", parent: "t") == nil)   // the parent holds 1
        #expect(keyed.tokens(for: "b") == 10)
        #expect(keyed.parentTokens(for: "t") == 1)
    }

    @Test("settle refunds an over-estimate, charges an under-estimate into debt, and returns the level after")
    func settleBothWays() throws {
        let clock = ManualClock()
        let keyed = try KeyedBuckets<String>(capacity: 100, refillPerSecond: 10, clock: clock)
        #expect(try keyed.tryTake(60, for: "a") == 40)
        #expect(try keyed.settle(reserved: 60, used: 20, for: "a") == 80)     // 40 back
        #expect(try keyed.settle(reserved: 20, used: 130, for: "a") == 0)     // 110 more: 30 in debt
        #expect(try keyed.tryTake(1, for: "a") == nil)
        clock.advance(by: .seconds(3))                                          // the debt refilled
        #expect(keyed.tokens(for: "a") == 0)
        clock.advance(by: .seconds(1))
        #expect(try keyed.settle(reserved: 5, used: 5, for: "a") == 10)        // nothing to settle: the level
        #expect(throws: BucketError.self) { try keyed.settle(reserved: -1, used: 0, for: "a") }
        #expect(throws: BucketError.self) { try keyed.settle(reserved: 1, used: .nan, for: "a") }
    }

    @Test("settle under a parent adjusts both buckets and returns the key's level")
    func settleWithParent() throws {
        let keyed = try KeyedBuckets<String>(capacity: 100, refillPerSecond: 1,
                                             parent: BucketConfiguration(capacity: 50, refillPerSecond: 1), clock: ManualClock())
        #expect(try keyed.tryTake(40, for: "a", parent: "t") == 60)
        #expect(keyed.parentTokens(for: "t") == 10)
        #expect(try keyed.settle(reserved: 40, used: 10, for: "a", parent: "t") == 90)
        #expect(keyed.parentTokens(for: "t") == 40)
        #expect(try keyed.settle(reserved: 10, used: 70, for: "a", parent: "t") == 30)
        #expect(keyed.parentTokens(for: "t") == 0)          // 20 in debt
        #expect(try keyed.tryTake(1, for: "b", parent: "t") == nil)
    }

    @Test("settle moves waiters up as refund does, and behind a charge as charge does")
    func settleReplansWaiters() async throws {
        let clock = ManualClock()
        let keyed = try KeyedBuckets<String>(capacity: 10, refillPerSecond: 1, clock: clock)
        #expect(try keyed.tryTake(10, for: "a") == 0)
        let waiter = Task { try await keyed.acquire(5, for: "a") }
        while keyed.waiters(for: "a") == 0 { await Task.yield() }
        // A refund of 5 admits the waiter at once (no time passes on the manual clock).
        try keyed.settle(reserved: 10, used: 5, for: "a")
        let admission = try await waiter.value
        #expect(admission.admittedAt == .zero)
        #expect(keyed.tokens(for: "a") == 0)
    }

    @Test("GCRA.double converts Int128 exactly as Double(_:) does, across the whole range")
    func int128ToDouble() {
        var values: [Int128] = [0, 1, -1, Int128(Int64.max), Int128(Int64.max) + 1, Int128(Int64.min), Int128(Int64.min) - 1,
                                Int128.max, Int128.min, Int128.max - 1, Int128.min + 1, Int128(1) << 64, (Int128(1) << 64) - 1,
                                (Int128(1) << 64) + 1, (Int128(1) << 100) + (Int128(1) << 47), (Int128(1) << 100) + (Int128(1) << 47) + 1,
                                (Int128(1) << 100) + (Int128(1) << 46), (Int128(3) << 99) - (Int128(1) << 47)]
        var g = SeededGenerator(seed: 17)
        for _ in 0..<20_000 {
            let hi = Int64(bitPattern: g.next())
            let lo = g.next()
            let shift = Int(g.next() % 127)
            values.append((Int128(hi) << 64 | Int128(lo)) >> shift)
        }
        for v in values { #expect(GCRA.double(v) == Double(v), "\(v)") }
    }
}
