import Synchronization

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
