import Testing
@testable import TokenBucket

/// `Bucket.tryAcquire`'s lock-free lane (``LockFreeLane``): the same decisions as the locked
/// exact state, under concurrency, across re-basing, reconfiguration and waiters.
@Suite("Lock-free tryAcquire lane")
struct LockFreeLaneTests {
    @Test func aBucketUsesTheLaneWhereTheCPUHasIt() throws {
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: ManualClock())
        #expect((bucket.engine.lane != nil) == LockFreeLane.isAvailable)
    }

    @Test("8 tasks racing 16,000 tryAcquire(1) on 5,000 tokens: exactly 5,000 admitted")
    func concurrentTryAcquireAdmitsExactlyTheCapacity() async throws {
        let clock = ManualClock()   // time stands still: no refill during the race
        let bucket = try Bucket(capacity: 5_000, refillPerSecond: 1, clock: clock)
        let admitted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var n = 0
                    for _ in 0..<2_000 where (try? bucket.tryAcquire(1)) == true { n += 1 }
                    return n
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 5_000)
        #expect(bucket.tokens == 0)
        clock.advance(by: .seconds(3))
        #expect(bucket.tokens == 3)                     // the refill, exactly, after the race
    }

    @Test("randomized: Bucket (lane) and BucketState (reference) agree on every operation")
    func laneMatchesTheExactState() async throws {
        // Refills up to 1e9/s with jumps of up to 40 s: offsets leave the lane's headroom
        // and products overflow, so the locked path re-bases it many times.
        let configs = [(1e9, 1e9), (10.0, 2.0), (3.0, 1.0 / 3.0), (1_000.0, 7.0)]
        var rng = SeededGenerator(seed: 8)
        for (capacity, refill) in configs {
            let clock = ManualClock()
            let bucket = try Bucket(capacity: capacity, refillPerSecond: refill, clock: clock)
            var reference = try BucketState(capacity: capacity, refillPerSecond: refill)
            var currentCapacity = capacity
            var t: Nanoseconds = 0
            for step in 0..<4_000 {
                let roll = Int.random(in: 0..<100, using: &rng)
                switch roll {
                case 0..<60:
                    let cost = Double.random(in: 0.01...(currentCapacity * 0.3), using: &rng)
                    let got = try bucket.tryAcquire(cost)
                    let want = try reference.tryAcquire(cost, at: t)
                    #expect(got == want, "step \(step): tryAcquire(\(cost)) at \(t)")
                case 60..<85:
                    let jump: Nanoseconds = roll < 62 ? Nanoseconds.random(in: 0...40 * second, using: &rng)
                        : Nanoseconds.random(in: 0...(second / 10), using: &rng)
                    t += jump
                    clock.advance(by: .nanoseconds(jump))
                case 85..<89:
                    let amount = Double.random(in: 0...(currentCapacity * 0.5), using: &rng)
                    try bucket.refund(amount)
                    try reference.refund(amount, at: t)
                case 89..<93:
                    let amount = Double.random(in: 0...(currentCapacity * 0.5), using: &rng)
                    try bucket.charge(amount)
                    try reference.charge(amount, at: t)
                case 93..<95:
                    currentCapacity = Swift.min(1e9, capacity * Double.random(in: 0.5...2, using: &rng))
                    let newRefill = Swift.min(1e9, refill * Double.random(in: 0.5...2, using: &rng))
                    let c = try BucketConfiguration(capacity: currentCapacity, refillPerSecond: newRefill)
                    bucket.reconfigure(c)
                    reference.reconfigure(c, at: t)
                default:
                    #expect(bucket.tokens == reference.tokens(at: t), "step \(step): tokens at \(t)")
                }
            }
            #expect(bucket.tokens == reference.tokens(at: t))
        }
    }

    @Test func aCostAboveCapacityStillThrowsThroughTheLane() throws {
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: ManualClock())
        #expect(try bucket.tryAcquire(1))               // the lane is open from here on
        #expect(throws: BucketError.costExceedsCapacity(cost: 11, capacity: 10)) { try bucket.tryAcquire(11) }
        #expect(throws: BucketError.self) { try bucket.tryAcquire(-1) }
        #expect(bucket.tokens == 9)
    }

    @Test("reconfiguring while the lane is open: the new capacity and refill apply at once")
    func reconfigureClosesAndReopensTheLane() throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        #expect(try bucket.tryAcquire(4))               // 6 left
        bucket.reconfigure(try BucketConfiguration(capacity: 3, refillPerSecond: 100))
        #expect(throws: BucketError.costExceedsCapacity(cost: 4, capacity: 3)) { try bucket.tryAcquire(4) }
        #expect(try bucket.tryAcquire(3))               // capped at 3, all taken
        #expect(!(try bucket.tryAcquire(0.5)))
        clock.advance(by: .milliseconds(10))            // 100/s: one token in 10 ms
        #expect(try bucket.tryAcquire(1))
        #expect(!(try bucket.tryAcquire(0.01)))
    }

    @Test("a waiting task closes the lane: tryAcquire never goes ahead of it")
    func tryAcquireDoesNotOvertakeAWaiter() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        #expect(try bucket.tryAcquire(10))
        let waiter = Task { try await bucket.acquire(4) }   // due at 4 s
        await eventually("one waiter", { bucket.snapshot().waiters == 1 })
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(3))                       // 3 tokens there, all promised
        #expect(!(try bucket.tryAcquire(1)))
        #expect(bucket.engine.lane?.isOpen != true)
        clock.advance(by: .seconds(1))
        let a = try await waiter.value
        #expect(a.admittedAt == .seconds(4))
        clock.advance(by: .seconds(1))
        #expect(try bucket.tryAcquire(1))                    // the refill after the waiter
        #expect(!(try bucket.tryAcquire(0.001)))
    }
}
