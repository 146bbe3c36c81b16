import Synchronization
import TokenBucket

/// Open while a live fleet runs, closed while it is paused: every sender passes it before each
/// new request, so pausing stops new arrivals without touching requests already sent.
///
/// ```swift
/// let gate = PauseGate()
/// gate.setPaused(true)
/// Task { await gate.pass(); send() }   // suspends (no polling) until…
/// gate.setPaused(false)                // …this resumes it
/// ```
/// A cancelled task passes at once (and checks cancellation itself).
final class PauseGate: Sendable {
    private struct State {
        var paused = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var isPaused: Bool { state.withLock { $0.paused } }

    func setPaused(_ paused: Bool) {
        let resume = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.paused = paused
            guard !paused else { return [] }
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for c in resume { c.resume() }
    }

    /// Returns at once when open; otherwise when the gate opens or the task is cancelled.
    /// - Complexity: O(1), one lock when open.
    func pass() async {
        let id: UInt64? = state.withLock { s in
            guard s.paused else { return nil }
            s.nextID &+= 1
            return s.nextID
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let open = state.withLock { s -> Bool in
                    if !s.paused || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if open { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

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
