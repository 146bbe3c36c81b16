/// A clock reduced to what keyed and LLM limiters need, so their types need not be generic
/// over the clock: nanoseconds since an origin, and a sleep until such an offset.
///
/// `ContinuousClock` gets a direct, non-generic path through ``FastClock`` (the clock read
/// dominates a `tryAcquire`).
@usableFromInline
struct TimeSource: Sendable {
    @usableFromInline let now: @Sendable () -> Nanoseconds
    @usableFromInline let sleepUntil: @Sendable (Nanoseconds) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        if clock is ContinuousClock {
            self = TimeSource.continuous()
        } else {
            self.init(clock, origin: clock.now)
        }
    }

    /// Nanoseconds since `origin` on `clock`.
    init<C: Clock>(_ clock: C, origin: C.Instant) where C.Duration == Duration {
        now = { TimeSource.nanoseconds(origin.duration(to: clock.now)) }
        sleepUntil = { t in try await clock.sleep(until: origin.advanced(by: .nanoseconds(t)), tolerance: nil) }
    }

    /// Throws for a negative timeout (a caller bug: "no waiting" is a timeout of zero).
    static func checkTimeout(_ timeout: Duration) throws {
        guard timeout >= .zero else {
            throw BucketError.invalidParameter(name: "timeout", value: Double(nanoseconds(timeout)) / 1e9, requirement: ">= 0 seconds")
        }
    }

    /// Built outside any generic context, so reading the time needs no generic metadata.
    /// Reads ``FastClock`` (the time-stamp counter, on the `ContinuousClock` timeline) where
    /// it is TSC-backed, `ContinuousClock` otherwise.
    static func continuous() -> TimeSource {
        if FastTimeBase.shared.usable { return fast(origin: FastTimeBase.shared.now()) }
        let origin = ContinuousClock.now
        return TimeSource(
            now: { TimeSource.nanoseconds(origin.duration(to: ContinuousClock.now)) },
            sleepUntil: { t in try await ContinuousClock().sleep(until: origin.advanced(by: .nanoseconds(t)), tolerance: nil) })
    }

    /// Nanoseconds since `origin` on ``FastClock``; sleeps on `ContinuousClock`.
    static func fast(origin: Int64) -> TimeSource {
        let base = FastTimeBase.shared
        return TimeSource(
            now: { base.counterNow() &- origin },
            sleepUntil: { t in try await base.sleep(until: origin &+ t, tolerance: nil) })
    }

    private init(now: @escaping @Sendable () -> Nanoseconds, sleepUntil: @escaping @Sendable (Nanoseconds) async throws -> Void) {
        self.now = now
        self.sleepUntil = sleepUntil
    }

    /// Whole nanoseconds in `d` (toward zero).
    @inlinable
    static func nanoseconds(_ d: Duration) -> Nanoseconds {
        #if os(Linux)
        // One 128-bit division instead of the two `components` needs (29 vs 37 ns with the clock read, measured).
        return Nanoseconds(truncatingIfNeeded: d.attoseconds / 1_000_000_000)
        #else
        let (s, a) = d.components
        return s &* 1_000_000_000 &+ a / 1_000_000_000
        #endif
    }
}
