import Testing
@testable import TokenBucket

/// Randomized schedules on the async bucket: arrivals, cancellations and reconfigurations
/// interleaved on a ManualClock. Every task settles exactly once, admissions stay within the
/// largest configuration's bound, and when everything has settled the bucket refills to
/// exactly full: no token lost or counted twice.
@Suite("Async Bucket randomized schedules")
struct BucketScheduleTests {
    @Test(arguments: [21, 22, 23] as [UInt64])
    func randomScheduleSettlesEveryTaskOnce(seed: UInt64) async throws {
        var g = SeededGenerator(seed: seed)
        let clock = ManualClock()
        let configs = [try BucketConfiguration(capacity: 4, refillPerSecond: 3),
                       try BucketConfiguration(capacity: 6, refillPerSecond: 7)]
        let bucket = Bucket(configs[0], clock: clock)
        let settled = Counter()
        var tasks: [(task: Task<Admission, any Error>, units: Int64)] = []
        for _ in 0..<300 {
            switch g.next() % 10 {
            case 0..<6:
                let cost = Double(g.next() % 3000 + 1) / 1000
                tasks.append((Task {
                    defer { settled.increment() }
                    return try await bucket.acquire(cost)
                }, TokenUnits.units(cost)))
                await Task.yield()
            case 6..<8:
                if let victim = tasks.indices.randomElement(using: &g) { tasks[victim].task.cancel() }
            case 8:
                bucket.reconfigure(configs[Int(g.next() % 2)])
            default:
                clock.advance(by: .milliseconds(Int64(g.next() % 500)))
                await Task.yield()
            }
        }
        bucket.reconfigure(configs[0])
        // Keep time moving until every task has settled.
        for _ in 0..<100_000 where settled.value < tasks.count {
            clock.advance(by: .milliseconds(50))
            await Task.yield()
        }
        var admitted: [Admitted] = []
        var cancelled = 0
        for (task, units) in tasks {
            do {
                let a = try await task.value
                admitted.append(Admitted(at: TimeSource.nanoseconds(a.admittedAt), units: units))
            } catch {
                #expect(error is CancellationError, "\(error)")
                cancelled += 1
            }
        }
        #expect(admitted.count + cancelled == tasks.count)
        #expect(admitted.count > tasks.count / 2)
        #expect(bucket.snapshot().waiters == 0)
        // Bound of the largest configuration (6 tokens, 7/s).
        #expect(worstExcess(admitted, capacityUnits: 6 * TokenUnits.perToken, p: 7, q: 1) <= 0)
        clock.advance(by: .seconds(10))
        #expect(bucket.tokens == 4)
    }
}

import Synchronization

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
