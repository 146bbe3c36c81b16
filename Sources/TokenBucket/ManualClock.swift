import Synchronization

/// A clock whose time moves only when you move it: for tests of code that waits on a
/// ``Bucket`` (or anything else that sleeps on a `Clock`), with no real waiting and no flakiness.
///
/// `now` starts at zero and changes only through ``advance(by:)`` and ``advance(to:)``. Each
/// advance resumes, synchronously and in a fixed order (earliest deadline first, then the order
/// in which the sleeps began), every sleeper whose deadline has been reached. A sleep whose
/// deadline is not after `now` returns at once; a cancelled sleep throws `CancellationError`.
///
/// ```swift
/// let clock = ManualClock()
/// let bucket = try Bucket(capacity: 1, refillPerSecond: 1, clock: clock)
/// try await bucket.acquire(1)                       // immediate: the bucket starts full
/// async let second = bucket.acquire(1)              // waits for 1 s of (manual) time
/// await clock.waitForSleepers(1)                    // the bucket's timer is asleep
/// clock.advance(by: .seconds(1))
/// _ = try await second
/// ```
public final class ManualClock: Clock, Sendable {
    /// A point on a ``ManualClock``: the time elapsed since the clock was made.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock's start.
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        public var description: String { "ManualClock.Instant(\(offset))" }
    }

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let continuation: UnsafeContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// A clock at time zero.
    public init() {}

    public var now: Instant { state.withLock { $0.now } }

    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Number of tasks sleeping on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline among current sleepers, if any.
    public var nextDeadline: Instant? { state.withLock { s in s.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { s in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward by `duration` (negative durations are ignored) and resumes the
    /// sleepers it reaches.
    public func advance(by duration: Duration) {
        let target = state.withLock { $0.now.advanced(by: Swift.max(duration, .zero)) }
        advance(to: target)
    }

    /// Moves time forward to `instant` (never backwards) and resumes, in deadline order, every
    /// sleeper whose deadline is reached.
    public func advance(to instant: Instant) {
        let due = state.withLock { s -> [Sleeper] in
            if instant > s.now { s.now = instant }
            let now = s.now
            var due: [Sleeper] = []
            s.sleepers.removeAll { sleeper in
                guard sleeper.deadline <= now else { return false }
                due.append(sleeper)
                return true
            }
            // Stable: equal deadlines keep the order in which their sleeps began.
            return due.enumerated().sorted { ($0.element.deadline, $0.offset) < ($1.element.deadline, $1.offset) }.map(\.element)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Suspends until at least `count` tasks are sleeping on this clock: lets a test advance
    /// time only once the code under test has started waiting. Yields between checks.
    public func waitForSleepers(_ count: Int = 1) async {
        while sleeperCount < count { await Task.yield() }
    }
}
