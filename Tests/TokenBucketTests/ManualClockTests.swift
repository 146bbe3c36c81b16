import Testing
@testable import TokenBucket

@Suite("ManualClock")
struct ManualClockTests {
    @Test func timeMovesOnlyWhenAdvanced() {
        let clock = ManualClock()
        #expect(clock.now.offset == .zero)
        clock.advance(by: .seconds(2))
        clock.advance(to: ManualClock.Instant(offset: .seconds(1)))      // never backwards
        #expect(clock.now.offset == .seconds(2))
    }

    @Test func sleepersWakeInDeadlineOrder() async throws {
        let clock = ManualClock()
        let order = Order()
        let late = Task { try await clock.sleep(until: .init(offset: .seconds(2))); order.append(2) }
        await clock.waitForSleepers(1)
        let early = Task { try await clock.sleep(until: .init(offset: .seconds(1))); order.append(1) }
        await clock.waitForSleepers(2)
        #expect(clock.nextDeadline?.offset == .seconds(1))
        clock.advance(by: .seconds(1))
        try await early.value
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        try await late.value
        #expect(order.values == [1, 2])
    }

    @Test func pastDeadlineReturnsAtOnceAndCancellationThrows() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(5))
        try await clock.sleep(until: .init(offset: .seconds(1)))
        let task = Task { try await clock.sleep(for: .seconds(10)) }
        await clock.waitForSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }
}

/// A tiny thread-safe log for ordering assertions.
final class Order: @unchecked Sendable {
    private let lock = NSLockLike()
    private var storage: [Int] = []
    func append(_ v: Int) { lock.run { storage.append(v) } }
    var values: [Int] { lock.run { storage } }
}

import Synchronization
final class NSLockLike: Sendable {
    private let m = Mutex(())
    func run<R>(_ body: () -> R) -> R { m.withLock { _ in body() } }
}
