import Testing
@testable import TokenBucket

/// The only tests that wait on the real clock: short, with generous bounds.
@Suite("Real time (ContinuousClock)", .tags(.realTime))
struct RealTimeTests {
    @Test("REAL TIME: 200 waiters at 2,000/s: spaced by the refill, none waits past the queue ahead, resumed after admission")
    func realClockWaiters() async throws {
        let bucket = try Bucket(capacity: 1, refillPerSecond: 2_000)
        try await bucket.acquire(1)
        let admissions = try await withThrowingTaskGroup(of: Admission.self) { group in
            for _ in 0..<200 { group.addTask { try await bucket.acquire(1) } }
            var all: [Admission] = []
            for try await a in group { all.append(a) }
            return all
        }
        #expect(admissions.count == 200)
        #expect(Set(admissions.map(\.admittedAt)).count == 200)          // 0.5 ms apart, none twice
        for a in admissions { #expect(a.lateness >= .zero) }
        #expect(admissions.map(\.lateness).max()! < .seconds(30))        // only a hang: a loaded 2-core machine was 2.6 s late
        // FIFO at the refill rate: sorted admissions are 0.5 ms apart, and no request waited
        // longer than the 200 ahead of it need.
        let sorted = admissions.map(\.admittedAt).sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(b - a >= .microseconds(500)) }
        for a in admissions { #expect(a.wait <= .milliseconds(101)) }
    }
}

@Suite("Real time: concurrent waits and cancellations", .tags(.realTime))
struct RealTimeStressTests {
    @Test("REAL TIME: 2,000 tasks over 20 users under 2 tenants, half cancelled at random: every task ends, no tenant over its bound")
    func keyedWaitsAndCancellations() async throws {
        let buckets = try KeyedBuckets<String>(capacity: 5, refillPerSecond: 2_000,
                                               parent: BucketConfiguration(capacity: 5, refillPerSecond: 4_000))
        var rng = SeededGenerator(seed: 5)
        let plan = (0..<2_000).map { _ in (user: Int(rng.next() % 20), cancelAfter: rng.next() % 2 == 0 ? Int(rng.next() % 300) : nil) }
        let admitted = try await withThrowingTaskGroup(of: (String, Admission?).self) { group in
            for p in plan {
                let tenant = "tenant-\(p.user % 2)"
                group.addTask {
                    let task = Task { try await buckets.acquire(1, for: "user-\(p.user)", parent: tenant) }
                    if let us = p.cancelAfter {
                        try? await Task.sleep(for: .microseconds(us))
                        task.cancel()
                    }
                    return (tenant, try? await task.value)
                }
            }
            var all: [(String, Admission)] = []
            for try await (tenant, a) in group { if let a { all.append((tenant, a)) } }
            return all
        }
        // Every task never cancelled is admitted; a cancelled one may or may not be, depending on
        // whether its admission came first (on a loaded machine, fewer do).
        let neverCancelled = plan.filter { $0.cancelAfter == nil }.count
        #expect(admitted.count >= neverCancelled)
        #expect(buckets.waiting == 0)
        for tenant in ["tenant-0", "tenant-1"] {
            let events = admitted.filter { $0.0 == tenant }.map { Admitted(at: TimeSource.nanoseconds($0.1.admittedAt), units: TokenUnits.perToken) }
            #expect(worstExcess(events, capacityUnits: 5 * TokenUnits.perToken, p: 4_000, q: 1) <= 0)
        }
    }
}

extension Tag {
    @Tag static var realTime: Self
}
