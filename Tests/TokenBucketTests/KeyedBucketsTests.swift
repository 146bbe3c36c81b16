import Testing
@testable import TokenBucket

@Suite("Keyed buckets")
struct KeyedBucketsTests {
    func config(_ capacity: Double, _ refill: Double) throws -> BucketConfiguration {
        try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
    }

    @Test func eachKeyHasItsOwnBucket() throws {
        var k = try KeyedBucketState<String>(capacity: 2, refillPerSecond: 1)
        #expect(try k.tryAcquire(2, for: "alice", at: 0))
        #expect(!(try k.tryAcquire(1, for: "alice", at: 0)))
        #expect(try k.tryAcquire(2, for: "bob", at: 0))
        #expect(k.tokens(for: "alice", at: second) == 1)
        #expect(k.tokens(for: "carol", at: 0) == 2)          // never seen: a full bucket
        #expect(k.count == 2)
    }

    @Test("keyed admissions agree with BucketState, operation for operation")
    func agreesWithBucketState() throws {
        var keyed = try KeyedBucketState<Int>(capacity: 3, refillPerSecond: 7)
        var single = try BucketState(capacity: 3, refillPerSecond: 7)
        var g = SeededGenerator(seed: 3)
        var t: Nanoseconds = 0
        for _ in 0..<2_000 {
            t += Nanoseconds(g.next() % UInt64(300 * millisecond))
            let cost = Double(g.next() % 3000 + 1) / 1000
            if g.next() % 2 == 0 {
                #expect(try keyed.tryAcquire(cost, for: 42, at: t) == single.tryAcquire(cost, at: t))
            } else {
                #expect(try keyed.reserve(cost, for: 42, at: t).admitAt == single.reserve(cost, at: t).admitAt)
            }
        }
    }

    @Test func overridesChangeAtRuntimeKeepingTheLevel() throws {
        var k = try KeyedBucketState<String>(capacity: 10, refillPerSecond: 1)
        #expect(try k.tryAcquire(4, for: "vip", at: 0))
        k.setOverride(try config(100, 10), for: "vip", at: 0)
        #expect(k.configuration(for: "vip").capacity == 100)
        #expect(k.tokens(for: "vip", at: 0) == 6)             // level kept
        #expect(k.tokens(for: "vip", at: second) == 16)       // new rate
        #expect(k.configuration(for: "other").capacity == 10)
        k.setOverride(nil, for: "vip", at: second)
        #expect(k.tokens(for: "vip", at: second) == 10)       // capped at the default again
        #expect(k.overriddenKeys.isEmpty)
    }

    @Test func changingTheDefaultConvertsEveryHeldKey() throws {
        var k = try KeyedBucketState<String>(capacity: 10, refillPerSecond: 1)
        for key in ["a", "b", "c"] { #expect(try k.tryAcquire(8, for: key, at: 0)) }
        k.setDefaultConfiguration(try config(4, 2), at: 0)
        for key in ["a", "b", "c"] {
            #expect(k.tokens(for: key, at: 0) == 2)
            #expect(k.tokens(for: key, at: second) == 4)
        }
    }

    @Test("a parent admits all or nothing: nothing is taken from the child when the parent refuses")
    func parentAllOrNothing() throws {
        var k = try KeyedBucketState<String>(capacity: 5, refillPerSecond: 1, parent: config(6, 1))
        #expect(try k.tryAcquire(4, for: "alice", parent: "acme", at: 0))
        // Bob has 5, but the tenant only 2: refused, and Bob keeps his 5.
        #expect(!(try k.tryAcquire(3, for: "bob", parent: "acme", at: 0)))
        #expect(k.tokens(for: "bob", at: 0) == 5)
        #expect(k.parentTokens(for: "acme", at: 0) == 2)
        // Alice has 1 left: refused, and the tenant keeps its 2.
        #expect(!(try k.tryAcquire(2, for: "alice", parent: "acme", at: 0)))
        #expect(k.parentTokens(for: "acme", at: 0) == 2)
        #expect(try k.tryAcquire(2, for: "bob", parent: "acme", at: 0))
        #expect(k.tokens(for: "bob", at: 0) == 3)
        #expect(k.parentTokens(for: "acme", at: 0) == 0)
    }

    @Test("a queued reservation is admitted when both child and parent can admit it")
    func parentReservationWaitsForBoth() throws {
        var k = try KeyedBucketState<String>(capacity: 4, refillPerSecond: 1, parent: config(10, 2))
        let a1 = try k.reserve(4, for: "alice", parent: "acme", at: 0)     // both have it: 0
        let a2 = try k.reserve(4, for: "alice", parent: "acme", at: 0)     // alice's bucket: 4 s
        let b1 = try k.reserve(4, for: "bob", parent: "acme", at: 0)       // the parent: 3 s
        #expect(a1.admitAt == 0)
        #expect(a2.admitAt == 4 * second)
        // Alice's second request takes the parent's tokens at 4 s, when it acts; Bob fits in
        // before it, within what the parent has left: 10 + 2/s − 4 (at 0) − 4 (at 4 s).
        #expect(b1.admitAt == 3 * second)
        let parentEvents = [a1, a2, b1].map { Admitted(at: $0.admitAt, units: $0.costUnits) }
        #expect(worstExcess(parentEvents, capacityUnits: 10 * TokenUnits.perToken, p: 2, q: 1) <= 0)
        // Nothing taken from Bob's own bucket beyond his request.
        #expect(k.tokens(for: "bob", at: 3 * second) == 0)
        #expect(k.tokens(for: "bob", at: 7 * second) == 4)
    }

    @Test("eviction drops only full, idle keys and loses nothing")
    func evictionIsLossless() throws {
        var k = try KeyedBucketState<Int>(capacity: 2, refillPerSecond: 1)
        for key in 0..<100 { #expect(try k.tryAcquire(1, for: key, at: 0)) }
        _ = try k.reserve(2, for: 7, at: 0)                    // key 7: 1 token short, admitted at 1 s
        #expect(k.count == 100)
        #expect(k.evictIdle(at: 500 * millisecond) == 0)      // none full yet
        #expect(k.evictIdle(at: second) == 99)                // all refilled but key 7
        #expect(k.count == 1)
        // A dropped key is indistinguishable from a new one; key 7 kept its promise.
        #expect(k.tokens(for: 3, at: second) == 2)
        #expect(k.tokens(for: 7, at: second) == 0)
        #expect(try k.reserve(1, for: 7, at: second).admitAt == 2 * second)
    }

    @Test("memory stays bounded as keys churn")
    func churnStaysBounded() throws {
        var k = try KeyedBucketState<Int>(capacity: 1, refillPerSecond: 10)
        var largest = 0
        for i in 0..<200_000 {
            // 1,000 new keys per simulated second; each refills in 0.1 s.
            #expect(try k.tryAcquire(1, for: i, at: Nanoseconds(i) * millisecond))
            largest = Swift.max(largest, k.count)
        }
        #expect(largest < 4_000)          // ~100 live keys, swept when the table doubles
    }

    @Test("10,000 keys, random traffic: each key conforms on its own")
    func tenThousandKeys() throws {
        var k = try KeyedBucketState<Int>(capacity: 3, refillPerSecond: 2)
        var g = SeededGenerator(seed: 10)
        var admitted = [[Admitted]](repeating: [], count: 10_000)
        var t: Nanoseconds = 0
        for _ in 0..<100_000 {
            t += Nanoseconds(g.next() % 200_000)
            let key = Int(g.next() % 10_000)
            let cost = Double(g.next() % 2000 + 1) / 1000
            if try k.tryAcquire(cost, for: key, at: t) {
                admitted[key].append(Admitted(at: t, units: TokenUnits.units(cost)))
            }
        }
        #expect(admitted.map(\.count).reduce(0, +) > 50_000)
        for events in admitted {
            #expect(worstExcess(events, capacityUnits: 3 * TokenUnits.perToken, p: 2, q: 1) <= 0)
        }
    }

    @Test func cancellingTheLatestReservationRestoresBothBuckets() throws {
        var k = try KeyedBucketState<String>(capacity: 4, refillPerSecond: 1, parent: config(8, 2))
        #expect(try k.tryAcquire(4, for: "a", parent: "t", at: 0))
        var r = try k.reserve(3, for: "a", parent: "t", at: 0)
        #expect(r.admitAt == 3 * second)
        #expect(k.cancel(&r, at: second) == 3)
        #expect(k.tokens(for: "a", at: second) == 1)
        #expect(k.parentTokens(for: "t", at: second) == 6)
        #expect(k.cancel(&r, at: second) == 0)
    }

    @Test func cancellingAnEarlierReservationGivesNothingBack() throws {
        var k = try KeyedBucketState<String>(capacity: 1, refillPerSecond: 1)
        _ = try k.reserve(1, for: "a", at: 0)
        var r2 = try k.reserve(1, for: "a", at: 0)
        let r3 = try k.reserve(1, for: "a", at: 0)
        #expect(k.cancel(&r2, at: 0) == 0)
        #expect(try k.reserve(1, for: "a", at: 0).admitAt > r3.admitAt)
    }

    @Test("thread-safe KeyedBuckets: concurrent tasks over 10,000 keys never over-admit")
    func threadSafeConcurrent() async throws {
        let clock = ManualClock()
        let buckets = try KeyedBuckets<Int>(capacity: 5, refillPerSecond: 1, clock: clock)
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var n = 0
                    for i in 0..<5_000 where try buckets.tryAcquire(1, for: (i * 8 + worker) % 10_000) { n += 1 }
                    return n
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(admitted == 40_000)                             // 4 hits per key, capacity 5
        for key in [0, 1, 9_999] { #expect(buckets.tokens(for: key) == 1) }
        clock.advance(by: .seconds(4))
        #expect(buckets.evictIdle() == 10_000)
        #expect(buckets.count == 0)
    }

    @Test func threadSafeAcquireWaitsOnTheClock() async throws {
        let clock = ManualClock()
        let buckets = try KeyedBuckets<String>(capacity: 2, refillPerSecond: 1, clock: clock)
        try await buckets.acquire(2, for: "a")
        let task = Task { try await buckets.acquire(1, for: "a") }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(try await task.value.admittedAt == .seconds(1))
        await #expect(throws: BucketError.deadlineExceeded(wouldAdmitAfter: .seconds(2), allowed: .seconds(1))) {
            try await buckets.acquire(2, for: "a", timeout: .seconds(1))
        }
    }

    @Test("users under one tenant wait in the tenant's FIFO; a cancelled user's tokens move the other user up")
    func usersUnderATenantShareOneQueue() async throws {
        let clock = ManualClock()
        let buckets = try KeyedBuckets<String>(capacity: 10, refillPerSecond: 0.01,
                                               parent: BucketConfiguration(capacity: 4, refillPerSecond: 1), clock: clock)
        try await buckets.acquire(4, for: "alice", parent: "acme")
        let alice = Task { try await buckets.acquire(3, for: "alice", parent: "acme") }   // 3 s
        await eventually("alice queued") { buckets.waiters(for: "alice", parent: "acme") == 1 }
        let bob = Task { try await buckets.acquire(1, for: "bob", parent: "acme") }       // 4 s, behind alice
        await eventually("bob queued") { buckets.waiters(for: "bob", parent: "acme") == 2 }
        #expect(buckets.waiting == 2)
        #expect(!(try buckets.tryAcquire(1, for: "carol", parent: "acme")))            // no queue jumping
        alice.cancel()
        await #expect(throws: CancellationError.self) { try await alice.value }
        #expect(buckets.waiting == 1)                                                  // at once, re-plan pending or not
        #expect(buckets.tokens(for: "alice", parent: "acme") == 6)                     // given back at once
        clock.advance(by: .seconds(1))
        #expect(try await bob.value.admittedAt == .seconds(1))                         // moved up from 4 s
        // Alice's own bucket got its 3 tokens back too: only the first 4 were taken from it.
        #expect(abs(buckets.tokens(for: "alice") - 6.01) < 1e-9)
        #expect(buckets.parentTokens(for: "acme") == 0)
    }

    @Test("a key with waiters is never evicted; once served and refilled it is")
    func waitingKeysAreNotEvicted() async throws {
        let clock = ManualClock()
        let buckets = try KeyedBuckets<String>(capacity: 1, refillPerSecond: 1, clock: clock)
        try await buckets.acquire(1, for: "busy")
        let waiter = Task { try await buckets.acquire(1, for: "busy") }
        await eventually("queued") { buckets.waiters(for: "busy") == 1 }
        // Many new keys force sweeps; the waiting key stays.
        for i in 0..<5_000 { _ = try buckets.tryAcquire(1, for: "k\(i)") }
        clock.advance(by: .seconds(1))
        #expect(buckets.evictIdle() == 5_000)
        #expect(buckets.count == 1)
        #expect(try await waiter.value.admittedAt == .seconds(1))
        #expect(buckets.snapshot().isFullAndIdle("busy", at: 1 * second) == false)
        clock.advance(by: .seconds(1))
        buckets.evictIdle()
        #expect(buckets.count == 0)
    }
}
