import Synchronization
import Testing
@testable import TokenBucket

/// The async limiters the shared behavioural suite runs against. `keyedUnderParent` waits on a
/// parent bucket (the child's is large): the all-or-nothing path through a parent's queue.
enum LimiterKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case bucket, keyed, keyedUnderParent, llm
    var testDescription: String { rawValue }
}

/// One waiting limiter seen through the operations the suite needs: whole-token costs, on a
/// ManualClock, with one binding bucket of `capacity` and `refill` per second.
struct WaitingLimiter: Sendable {
    let kind: LimiterKind
    let clock = ManualClock()
    private let bucket: Bucket<ManualClock>?
    private let keyed: KeyedBuckets<String>?
    private let llm: LLMLimiter?

    init(_ kind: LimiterKind, capacity: Double, refill: Double) throws {
        self.kind = kind
        let config = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
        let roomy = try BucketConfiguration(capacity: 1_000_000, refillPerSecond: 1_000_000)
        switch kind {
        case .bucket:
            bucket = Bucket(config, clock: clock); keyed = nil; llm = nil
        case .keyed:
            bucket = nil; keyed = KeyedBuckets(config, clock: clock); llm = nil
        case .keyedUnderParent:
            bucket = nil; keyed = KeyedBuckets(roomy, parent: config, clock: clock); llm = nil
        case .llm:
            bucket = nil; keyed = nil
            llm = LLMLimiter(try LLMLimits(requests: roomy, tokens: config), clock: clock)
        }
    }

    /// Waits for `cost` tokens; returns the admission instant in ns.
    func acquire(_ cost: Int, timeout: Duration? = nil) async throws -> Nanoseconds {
        switch kind {
        case .bucket:
            let a: Admission
            if let timeout { a = try await bucket!.acquire(Double(cost), timeout: timeout) } else { a = try await bucket!.acquire(Double(cost)) }
            return TimeSource.nanoseconds(a.admittedAt)
        case .keyed:
            return TimeSource.nanoseconds(try await keyed!.acquire(Double(cost), for: "user", timeout: timeout).admittedAt)
        case .keyedUnderParent:
            return TimeSource.nanoseconds(try await keyed!.acquire(Double(cost), for: "user", parent: "tenant", timeout: timeout).admittedAt)
        case .llm:
            return try await llm!.acquire(LLMRequest(promptTokens: cost, maxOutputTokens: 0), timeout: timeout).admitAt
        }
    }

    func tryAcquire(_ cost: Int) throws -> Bool {
        switch kind {
        case .bucket: return try bucket!.tryAcquire(Double(cost))
        case .keyed: return try keyed!.tryAcquire(Double(cost), for: "user")
        case .keyedUnderParent: return try keyed!.tryAcquire(Double(cost), for: "user", parent: "tenant")
        case .llm: return try llm!.tryAcquire(LLMRequest(promptTokens: cost, maxOutputTokens: 0)) != nil
        }
    }

    /// Tasks waiting (settles due waiters and pending re-plans first).
    var waiters: Int {
        switch kind {
        case .bucket: return bucket!.snapshot().waiters
        case .keyed: return keyed!.waiters(for: "user")
        case .keyedUnderParent: return keyed!.waiters(for: "user", parent: "tenant")
        case .llm: return llm!.waiters
        }
    }

    /// Tokens in the binding bucket now.
    var tokens: Double {
        switch kind {
        case .bucket: return bucket!.tokens
        case .keyed: return keyed!.tokens(for: "user")
        case .keyedUnderParent: return keyed!.parentTokens(for: "tenant")!
        case .llm: return llm!.available()[.tokens]!
        }
    }

    func reconfigure(capacity: Double, refill: Double) throws {
        let config = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
        switch kind {
        case .bucket: bucket!.reconfigure(config)
        case .keyed: keyed!.setDefaultConfiguration(config)
        case .keyedUnderParent: keyed!.setParentConfiguration(config)
        case .llm:
            llm!.reconfigure(try LLMLimits(requests: BucketConfiguration(capacity: 1_000_000, refillPerSecond: 1_000_000),
                                           tokens: config))
        }
    }

    /// Starts a task that must wait, and returns once it is queued.
    func start(_ cost: Int, timeout: Duration? = nil) async -> Task<Nanoseconds, any Error> {
        let before = waiters
        let task = Task { [self] in try await acquire(cost, timeout: timeout) }
        await eventually("queued") { waiters > before }
        return task
    }
}

/// What the randomized test saw happen to each task (each task logs exactly once).
final class Log: Sendable {
    enum Entry: Sendable { case admitted(at: Nanoseconds, cost: Int), failed }
    private let entries = Mutex<[Entry]>([])
    func append(_ e: Entry) { entries.withLock { $0.append(e) } }
    var count: Int { entries.withLock { $0.count } }
    var all: [Entry] { entries.withLock { $0 } }
}

@Suite("Waiting: one behaviour for Bucket, KeyedBuckets (with and without a parent) and LLMLimiter", .serialized)
struct WaitingBehaviourTests {
    @Test("FIFO with mixed costs: a big request is not overtaken by small ones (no starvation)",
          arguments: LimiterKind.allCases)
    func fifoMixedCosts(_ kind: LimiterKind) async throws {
        let l = try WaitingLimiter(kind, capacity: 10, refill: 1)
        #expect(try await l.acquire(10) == 0)
        let big = await l.start(10)                                  // 10 s
        var small: [Task<Nanoseconds, any Error>] = []
        for _ in 0..<5 { small.append(await l.start(1)) }            // 11 s ... 15 s
        #expect(l.waiters == 6)
        // At 1 s a small request would fit, but neither tryAcquire nor a waiter jumps the queue.
        l.clock.advance(by: .seconds(1))
        #expect(!(try l.tryAcquire(1)))
        l.clock.advance(by: .seconds(19))
        #expect(try await big.value == 10 * second)
        for (i, s) in small.enumerated() { #expect(try await s.value == Int64(11 + i) * second) }
        #expect(l.waiters == 0)
        #expect(l.tokens == 5)                                       // 15 s of refill, 25 taken
    }

    @Test("cancelling a waiter at the head, in the middle or at the tail gives its tokens back exactly; later ones move up",
          arguments: LimiterKind.allCases, [0, 1, 3])
    func cancelAnywhere(_ kind: LimiterKind, _ position: Int) async throws {
        let l = try WaitingLimiter(kind, capacity: 10, refill: 1)
        _ = try await l.acquire(10)
        var tasks: [Task<Nanoseconds, any Error>] = []
        for _ in 0..<4 { tasks.append(await l.start(2)) }            // 2, 4, 6, 8 s
        l.clock.advance(by: .milliseconds(500))
        tasks[position].cancel()
        await #expect(throws: CancellationError.self) { try await tasks[position].value }
        #expect(l.waiters == 3)
        l.clock.advance(by: .seconds(10))
        var expected: Int64 = 2
        for (i, t) in tasks.enumerated() where i != position {
            #expect(try await t.value == expected * second)
            expected += 2
        }
        // 10.5 s of refill, 16 taken (not 18): 4.5 tokens now.
        #expect(l.tokens == 4.5)
    }

    @Test("a deadline fails at once, taking nothing, and says when admission would be",
          arguments: LimiterKind.allCases)
    func deadline(_ kind: LimiterKind) async throws {
        let l = try WaitingLimiter(kind, capacity: 10, refill: 2)
        _ = try await l.acquire(10)
        let queued = await l.start(4)                                // 2 s
        do {
            _ = try await l.acquire(2, timeout: .seconds(2))         // would be 3 s
            Issue.record("admitted past its deadline")
        } catch let e as BucketError {
            #expect(e == .deadlineExceeded(wouldAdmitAfter: .seconds(3), allowed: .seconds(2)))
            #expect(e.isLimit)
            #expect(e.retryAfter == .seconds(3))
            #expect(e.retryAfterSeconds == 3)
        }
        #expect(l.waiters == 1)
        l.clock.advance(by: .seconds(3))
        #expect(try await queued.value == 2 * second)
        #expect(l.tokens == 2)                                       // nothing taken by the failed call
        // A cost above capacity is never admissible: not a limit, no retry.
        do {
            _ = try await l.acquire(11, timeout: .seconds(100))
            Issue.record("admitted above capacity")
        } catch let e as BucketError {
            #expect(!e.isLimit)
            #expect(e.retryAfter == nil)
            #expect(e.retryAfterSeconds == nil)
        }
    }

    @Test("reconfiguring while tasks wait re-plans them in order at the new rate",
          arguments: LimiterKind.allCases)
    func reconfigureWhileWaiting(_ kind: LimiterKind) async throws {
        let l = try WaitingLimiter(kind, capacity: 10, refill: 1)
        _ = try await l.acquire(10)
        let a = await l.start(2), b = await l.start(2), c = await l.start(2)   // 2, 4, 6 s at 1/s
        try l.reconfigure(capacity: 10, refill: 2)                   // 1, 2, 3 s at 2/s
        let d = await l.start(2)                                     // 4 s
        l.clock.advance(by: .seconds(1))
        #expect(try await a.value == 1 * second)
        try l.reconfigure(capacity: 10, refill: 1)                   // from 1 s: 3, 5, 7 s
        l.clock.advance(by: .seconds(10))
        #expect(try await b.value == 3 * second)
        #expect(try await c.value == 5 * second)
        #expect(try await d.value == 7 * second)
        // A waiter above a new, smaller capacity fails; the others keep their turn.
        let e = await l.start(6)
        let f = await l.start(1)
        try l.reconfigure(capacity: 5, refill: 1)
        await #expect(throws: BucketError.self) { try await e.value }
        l.clock.advance(by: .seconds(10))
        #expect(try await f.value > 0)
    }

    @Test("10,000 waiters are admitted exactly on their instants, one per millisecond",
          arguments: LimiterKind.allCases)
    func tenThousandWaiters(_ kind: LimiterKind) async throws {
        let l = try WaitingLimiter(kind, capacity: 1, refill: 1_000)
        _ = try await l.acquire(1)
        let tasks = (0..<10_000).map { _ in Task { try await l.acquire(1) } }
        await eventually("all queued") { l.waiters == 10_000 }
        l.clock.advance(by: .seconds(5))
        #expect(l.waiters == 5_000)
        l.clock.advance(by: .seconds(5))
        var admitted: [Nanoseconds] = []
        for t in tasks { admitted.append(try await t.value) }
        #expect(admitted.sorted() == (1...10_000).map { Int64($0) * millisecond })
    }

    @Test("cancelling 10,000 waiters head first: every one throws, every token comes back",
          arguments: LimiterKind.allCases)
    func massCancellation(_ kind: LimiterKind) async throws {
        let l = try WaitingLimiter(kind, capacity: 2, refill: 1)
        _ = try await l.acquire(2)
        var tasks: [Task<Nanoseconds, any Error>] = []
        for i in 0..<10_000 {
            tasks.append(Task { try await l.acquire(1) })
            if i % 500 == 499 { await eventually("queued in order") { l.waiters == i + 1 } }
        }
        await eventually("all queued") { l.waiters == 10_000 }
        for t in tasks { t.cancel() }
        var cancelled = 0
        for t in tasks {
            do { _ = try await t.value } catch is CancellationError { cancelled += 1 }
        }
        #expect(cancelled == 10_000)
        #expect(l.waiters == 0)
        #expect(l.tokens == 0)                   // as before the waiters came: none was admitted
        l.clock.advance(by: .seconds(2))
        #expect(l.tokens == 2)
        #expect(try await l.acquire(2) == 2 * second)
    }

    @Test("tokens are conserved on randomized schedules of waits, cancellations, deadlines and time",
          arguments: LimiterKind.allCases, [UInt64(1), 2, 3])
    func conservation(_ kind: LimiterKind, _ seed: UInt64) async throws {
        var rng = SeededGenerator(seed: seed &* 7919 &+ UInt64(kind.rawValue.count))
        let capacity = 8.0, refill = 2.0
        let l = try WaitingLimiter(kind, capacity: capacity, refill: refill)
        let log = Log()
        var pending: [Task<Nanoseconds, any Error>] = []
        var spawned = 0
        for _ in 0..<120 {
            switch rng.next() % 6 {
            case 0, 1, 2:
                let cost = Int(1 + rng.next() % 4)
                let timeout: Duration? = rng.next() % 4 == 0 ? .milliseconds(Int64(rng.next() % 4_000)) : nil
                let before = log.count
                let waiting = l.waiters
                let task = Task { [l] in
                    do {
                        let at = try await l.acquire(cost, timeout: timeout)
                        log.append(.admitted(at: at, cost: cost))
                        return at
                    } catch {
                        log.append(.failed)
                        throw error
                    }
                }
                await eventually("queued or settled") { l.waiters > waiting || log.count > before }
                pending.append(task)
                spawned += 1
            case 3:
                if !pending.isEmpty { pending.remove(at: Int(rng.next() % UInt64(pending.count))).cancel() }
            default:
                l.clock.advance(by: .milliseconds(Int64(rng.next() % 1_500)))
            }
            // Every task is settled or waiting before the next step.
            await eventually("settled") { log.count + l.waiters == spawned }
        }
        // Let everything waiting be admitted, then compare the level with a replay of the
        // admissions alone: a leaked or doubly returned token shows as a difference.
        while l.waiters > 0 {
            l.clock.advance(by: .seconds(1))
            await Task.yield()
        }
        for t in pending { _ = try? await t.value }
        var admissions: [(at: Nanoseconds, cost: Int)] = []
        for case let .admitted(at, cost) in log.all { admissions.append((at, cost)) }
        admissions.sort { $0.at < $1.at }
        var reference = try BucketState(capacity: capacity, refillPerSecond: refill)
        for a in admissions { try reference.charge(Double(a.cost), at: a.at) }
        let now = TimeSource.nanoseconds(l.clock.now.offset)
        #expect(abs(l.tokens - reference.tokens(at: now)) < 1e-6)
        // And the admissions themselves never exceed the burst bound.
        let excess = worstExcess(admissions.map { Admitted(at: $0.at, units: Int64($0.cost) * TokenUnits.perToken) },
                                 capacityUnits: Int64(capacity) * TokenUnits.perToken, p: 2, q: 1)
        #expect(excess <= 0)
        #expect(admissions.count > 10)
    }
}
