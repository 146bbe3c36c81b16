import Testing
@testable import TokenBucket

/// The async bucket on a ManualClock: time moves only when the test moves it.
@Suite("Async Bucket")
struct BucketTests {
    func waiters<C>(_ bucket: Bucket<C>, _ n: Int, sourceLocation: SourceLocation = #_sourceLocation) async {
        await eventually("\(n) waiters", { bucket.snapshot().waiters == n }, sourceLocation: sourceLocation)
    }

    @Test func readmeExampleCompiles() async throws {
        let bucket = try Bucket(capacity: 10, refillPerSecond: 2)
        try await bucket.acquire(3)
        #expect(try bucket.tryAcquire(1))
    }

    @Test func startsFullAndAdmitsAtOnce() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 2, clock: clock)
        let a = try await bucket.acquire(10)
        #expect(a.isImmediate)
        #expect(a.admittedAt == .zero)
        #expect(!(try bucket.tryAcquire(0.5)))
    }

    @Test func waiterIsResumedAtItsAdmissionInstant() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 2, clock: clock)
        try await bucket.acquire(10)
        let task = Task { try await bucket.acquire(3) }          // 3 tokens at 2/s: 1.5 s
        await waiters(bucket, 1)
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(1499))
        #expect(bucket.snapshot().waiters == 1)                   // not yet
        clock.advance(by: .milliseconds(1))
        let a = try await task.value
        #expect(a.admittedAt == .milliseconds(1500))
        #expect(a.wait == .milliseconds(1500))
        #expect(a.lateness == .zero)                              // a manual clock is never late
        #expect(bucket.snapshot().waiters == 0)
    }

    @Test("FIFO with mixed costs: a big request is not overtaken by small ones")
    func fifoMixedCostsNoStarvation() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(10)
        let big = Task { try await bucket.acquire(10) }           // needs 10 s
        await waiters(bucket, 1)
        var small: [Task<Admission, any Error>] = []
        for i in 0..<5 {
            small.append(Task { try await bucket.acquire(1) })
            await waiters(bucket, 2 + i)
        }
        // A small request would fit at 1 s, but it must not go before the big one.
        #expect(!(try bucket.tryAcquire(1)))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(20))
        let b = try await big.value
        #expect(b.admittedAt == .seconds(10))
        var last = b.admittedAt
        for (i, s) in small.enumerated() {
            let a = try await s.value
            #expect(a.admittedAt == .seconds(11 + Int64(i)))
            #expect(a.admittedAt > last)
            last = a.admittedAt
        }
    }

    @Test("cancelling a waiter throws CancellationError, gives its tokens back, moves later ones up")
    func cancellationGivesTokensBack() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(10)
        let first = Task { try await bucket.acquire(4) }          // 4 s
        await waiters(bucket, 1)
        let second = Task { try await bucket.acquire(5) }         // 9 s
        await waiters(bucket, 2)
        let third = Task { try await bucket.acquire(1) }          // 10 s
        await waiters(bucket, 3)
        #expect(bucket.snapshot().queuedCost == 10)
        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        let s = bucket.snapshot()
        #expect(s.waiters == 2)
        #expect(s.queuedCost == 5)
        #expect(s.nextAdmission == .seconds(4))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(10))
        #expect(try await first.value.admittedAt == .seconds(4))
        #expect(try await third.value.admittedAt == .seconds(5))  // moved up from 10 s
        // Everything given back exactly: full again after 10 tokens' refill from 0.
        #expect(bucket.tokens == 5)
        clock.advance(by: .seconds(5))
        #expect(bucket.tokens == 10)
    }

    @Test func cancellingTheHeadMovesEveryoneUp() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 4, refillPerSecond: 2, clock: clock)
        try await bucket.acquire(4)
        let head = Task { try await bucket.acquire(4) }           // 2 s
        await waiters(bucket, 1)
        let next = Task { try await bucket.acquire(2) }           // 3 s
        await waiters(bucket, 2)
        clock.advance(by: .milliseconds(500))
        head.cancel()
        await #expect(throws: CancellationError.self) { try await head.value }
        #expect(bucket.snapshot().nextAdmission == .seconds(1))   // 2 tokens at 2/s from 0
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(500))
        #expect(try await next.value.admittedAt == .seconds(1))
    }

    @Test("with no other operation, the timer re-plans within 1 ms of a cancellation")
    func timerReplansAfterCancellation() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 4, refillPerSecond: 2, clock: clock)
        try await bucket.acquire(4)
        let head = Task { try await bucket.acquire(4) }           // 2 s
        await waiters(bucket, 1)
        let next = Task { try await bucket.acquire(2) }           // 3 s
        await waiters(bucket, 2)
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(500))
        head.cancel()
        await #expect(throws: CancellationError.self) { try await head.value }
        await eventually("timer re-armed for the re-plan") { clock.nextDeadline?.offset == .milliseconds(501) }
        clock.advance(by: .milliseconds(1))                       // the re-plan: next moves up to 1 s
        await eventually("re-planned") { clock.nextDeadline?.offset == .seconds(1) }
        clock.advance(to: .init(offset: .seconds(1)))
        #expect(try await next.value.admittedAt == .seconds(1))
    }

    @Test("cancellations in a burst re-plan once they pause for 1 ms, at most 10 ms into the burst")
    func cancellationBurstIsDebounced() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 1, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(1)
        var tasks: [Task<Admission, any Error>] = []
        for i in 0..<30 {                                         // admitted at 1 s, 2 s, ... 30 s
            tasks.append(Task { try await bucket.acquire(1) })
            await waiters(bucket, i + 1)
        }
        await clock.waitForSleepers(1)
        // 20 head-first cancellations, one every 0.5 ms: the burst never pauses for 1 ms.
        for k in 0..<20 {
            tasks[k].cancel()
            await #expect(throws: CancellationError.self) { try await tasks[k].value }
            if k < 19 { clock.advance(by: .microseconds(500)) }
        }
        // At 9.5 ms: not re-planned yet (the queue still waits behind the 20 cancelled ones);
        // the timer is asleep until the 10 ms cap.
        await eventually("timer armed for the 10 ms cap") { clock.nextDeadline?.offset == .milliseconds(10) }
        clock.advance(to: .init(offset: .milliseconds(10)))
        // Re-planned: the first waiter left moves up from 21 s to 1 s.
        await eventually("re-planned at 10 ms") { clock.nextDeadline?.offset == .seconds(1) }
        // A lone cancellation after the burst: re-planned 1 ms later.
        tasks[20].cancel()
        await #expect(throws: CancellationError.self) { try await tasks[20].value }
        await eventually("timer armed 1 ms after the lone cancellation") { clock.nextDeadline?.offset == .milliseconds(11) }
        clock.advance(to: .init(offset: .milliseconds(11)))
        await eventually("re-planned at 11 ms") { clock.nextDeadline?.offset == .seconds(1) }
        clock.advance(to: .init(offset: .seconds(1)))
        #expect(try await tasks[21].value.admittedAt == .seconds(1))
        for t in tasks[22...] { t.cancel() }
    }

    @Test("cancelling 10,000 waiters head first: all throw, every token comes back")
    func massCancellation() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 2, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(2)
        let tasks = (0..<10_000).map { _ in Task { try await bucket.acquire(1) } }
        await waiters(bucket, 10_000)
        for t in tasks { t.cancel() }
        var cancelled = 0
        for t in tasks {
            do { _ = try await t.value } catch is CancellationError { cancelled += 1 }
        }
        #expect(cancelled == 10_000)
        let s = bucket.snapshot()
        #expect(s.waiters == 0)
        #expect(s.queuedCost == 0)
        #expect(s.balance == 0)                                   // exactly as before they came
        clock.advance(by: .seconds(2))
        #expect(bucket.tokens == 2)
    }

    @Test func cancelledBeforeCallingTakesNothing() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 1, refillPerSecond: 1, clock: clock)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await bucket.acquire(1)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(bucket.tokens == 1)
    }

    @Test("a deadline that admission would miss fails at once and consumes nothing")
    func deadlineFailsAtOnce() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(8)
        await #expect(throws: BucketError.deadlineExceeded(wouldAdmitAfter: .seconds(3), allowed: .seconds(2))) {
            try await bucket.acquire(5, timeout: .seconds(2))
        }
        #expect(bucket.tokens == 2)
        #expect(bucket.snapshot().waiters == 0)
        let deadline = clock.now.advanced(by: .seconds(3))
        let task = Task { try await bucket.acquire(5, deadline: deadline) }   // exactly at the deadline: fine
        await waiters(bucket, 1)
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(3))
        #expect(try await task.value.admittedAt == .seconds(3))
    }

    @Test func reconfigureWhileWaitingReplansAtTheNewRate() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(10)
        let a = Task { try await bucket.acquire(4) }              // 4 s at 1/s
        await waiters(bucket, 1)
        let b = Task { try await bucket.acquire(4) }              // 8 s at 1/s
        await waiters(bucket, 2)
        clock.advance(by: .seconds(1))                            // 1 token refilled
        try bucket.reconfigure(capacity: 10, refillPerSecond: 3)
        // From 1 token at 1 s, refilling 3/s: a needs 3 more (2 s), b 4 more (3.33 s).
        #expect(bucket.snapshot().nextAdmission == .seconds(2))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(5))
        #expect(try await a.value.admittedAt == .seconds(2))
        #expect(try await b.value.admittedAt == .nanoseconds(3_333_333_334))
    }

    @Test func slowerReconfigurationFailsWaitersPastTheirDeadline() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 10, clock: clock)
        try await bucket.acquire(10)
        let task = Task { try await bucket.acquire(5, timeout: .seconds(1)) }   // 0.5 s
        await waiters(bucket, 1)
        try bucket.reconfigure(capacity: 10, refillPerSecond: 1)                 // would be 5 s
        await #expect(throws: BucketError.deadlineExceeded(wouldAdmitAfter: .seconds(5), allowed: .seconds(1))) {
            try await task.value
        }
        #expect(bucket.snapshot().waiters == 0)
    }

    @Test func shrinkingCapacityBelowAWaitersCostFailsIt() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(10)
        let task = Task { try await bucket.acquire(8) }
        await waiters(bucket, 1)
        try bucket.reconfigure(capacity: 5, refillPerSecond: 1)
        await #expect(throws: BucketError.costExceedsCapacity(cost: 8, capacity: 5)) { try await task.value }
    }

    @Test func snapshotReportsTheQueue() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 2, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(2)
        let t1 = Task { try await bucket.acquire(1.5) }
        await waiters(bucket, 1)
        clock.advance(by: .milliseconds(250))
        let t2 = Task { try await bucket.acquire(0.5) }
        await waiters(bucket, 2)
        let s = bucket.snapshot()
        #expect(s.waiters == 2)
        #expect(s.queuedCost == 2)
        #expect(s.oldestWait == .milliseconds(250))
        #expect(s.tokens == 0)
        #expect(s.balance == -1.75)
        #expect(s.configuration == (try BucketConfiguration(capacity: 2, refillPerSecond: 1)))
        clock.advance(by: .seconds(2))
        _ = try await (t1.value, t2.value)
    }

    @Test func refundWhileWaitingMovesWaitersUp() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 10, refillPerSecond: 1, clock: clock)
        try await bucket.acquire(10)
        let task = Task { try await bucket.acquire(5) }           // 5 s
        await waiters(bucket, 1)
        try bucket.refund(3)                                      // the first request used 7
        #expect(bucket.snapshot().nextAdmission == .seconds(2))
        clock.advance(by: .seconds(2))
        #expect(try await task.value.admittedAt == .seconds(2))
    }

    @Test("stress: 1,000 concurrent tasks, a quarter cancelled; each settled once, nothing lost")
    func thousandConcurrentTasks() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 5, refillPerSecond: 100, clock: clock)
        var g = SeededGenerator(seed: 7)
        let costs = (0..<1_000).map { _ in Double(g.next() % 400 + 1) / 100 }   // 0.01 ... 4 tokens
        try await bucket.acquire(5)                                               // empty: all 1,000 queue
        let tasks = costs.map { cost in Task { try await bucket.acquire(cost) } }
        await waiters(bucket, 1_000)
        var cancelled = Set<Int>()
        for i in stride(from: 3, to: 1_000, by: 4) { tasks[i].cancel(); cancelled.insert(i) }
        var admitted: [Admitted] = []
        var cancelledCount = 0
        // Advance in steps until every task settled.
        for _ in 0..<200 {
            clock.advance(by: .milliseconds(100))
            await Task.yield()
        }
        for (i, task) in tasks.enumerated() {
            do {
                let a = try await task.value
                admitted.append(Admitted(at: Nanoseconds(a.admittedAt.components.seconds) * second
                                         + Nanoseconds(a.admittedAt.components.attoseconds / 1_000_000_000),
                                         units: TokenUnits.units(costs[i])))
            } catch is CancellationError {
                #expect(cancelled.contains(i))
                cancelledCount += 1
            }
        }
        #expect(admitted.count + cancelledCount == 1_000)
        #expect(bucket.snapshot().waiters == 0)
        admitted.append(Admitted(at: 0, units: 5 * TokenUnits.perToken))
        #expect(worstExcess(admitted, capacityUnits: 5 * TokenUnits.perToken, p: 100, q: 1) <= 0)
        // Nothing lost: once refilled, the bucket is exactly full again.
        clock.advance(by: .seconds(1))
        #expect(bucket.tokens == 5)
    }

    @Test("10,000 waiters on one bucket use one timer and are resumed in FIFO order")
    func tenThousandWaiters() async throws {
        let clock = ManualClock()
        let bucket = try Bucket(capacity: 1, refillPerSecond: 1000, clock: clock)
        try await bucket.acquire(1)
        let tasks = (0..<10_000).map { _ in Task { try await bucket.acquire(1) } }
        await waiters(bucket, 10_000)
        await clock.waitForSleepers(1)
        #expect(clock.sleeperCount == 1)                          // one timer, not one per waiter
        clock.advance(by: .seconds(5))
        await eventually("first half admitted") { bucket.snapshot().waiters == 5_000 }
        clock.advance(by: .seconds(5))
        var times: [Duration] = []
        for t in tasks { times.append(try await t.value.admittedAt) }
        #expect(Set(times).count == 10_000)
        #expect(times.sorted().first == .milliseconds(1))
        #expect(times.sorted().last == .seconds(10))
    }
}
