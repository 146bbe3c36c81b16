import TokenBucket

/// Real time for a live fleet: nanoseconds on the `ContinuousClock` since the fleet started,
/// the same timeline the simulator's virtual nanoseconds use.
struct LiveClock: Sendable {
    let origin: ContinuousClock.Instant

    /// Time zero `lead` from now: a fleet starts its senders before its clock starts, so the
    /// first arrivals are not late by the time it takes to start them.
    init(lead: Duration = .zero) { origin = ContinuousClock.now.advanced(by: lead) }

    @inline(__always)
    func now() -> Nanoseconds { Self.nanoseconds(origin.duration(to: .now)) }

    /// Whole nanoseconds in `d` (toward zero).
    @inline(__always)
    static func nanoseconds(_ d: Duration) -> Nanoseconds { Nanoseconds(truncatingIfNeeded: d.attoseconds / 1_000_000_000) }

    func instant(_ t: Nanoseconds) -> ContinuousClock.Instant { origin.advanced(by: .nanoseconds(t)) }

    /// Sleeps until `t` on the fleet's timeline; throws `CancellationError` when cancelled.
    func sleep(until t: Nanoseconds) async throws {
        try await ContinuousClock().sleep(until: instant(t), tolerance: nil)
    }
}
