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
        #expect(admissions.map(\.lateness).max()! < .seconds(2))         // loose: shared CI machines
        // FIFO at the refill rate: sorted admissions are 0.5 ms apart, and no request waited
        // longer than the 200 ahead of it need.
        let sorted = admissions.map(\.admittedAt).sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(b - a >= .microseconds(500)) }
        for a in admissions { #expect(a.wait <= .milliseconds(101)) }
    }
}

extension Tag {
    @Tag static var realTime: Self
}
