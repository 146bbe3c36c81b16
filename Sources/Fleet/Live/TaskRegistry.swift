import Synchronization

/// The tasks of a live fleet: every sender and every request runs as a task registered here
/// until it ends, so shutdown can cancel them in the order it chooses and await every one.
///
/// ```swift
/// let tasks = TaskRegistry()
/// tasks.spawn { await send() }
/// tasks.stop(cancellingFirst: latestWaiters)   // then every other task
/// await tasks.drained()                        // all have returned
/// ```
/// Why not one task group: a group cancels its children in its own order, and the fleet
/// cancels each bucket's waiters latest first, which the library refunds exactly on the spot
/// (a waiter cancelled ahead of others is marked and the queue behind it re-planned later, in
/// one pass per burst). With the library before its coalesced cancellation, head first cost
/// 1.9 s for 10,000 waiters in a release build against 0.09 s latest first; now a shutdown of
/// 10,000 waiting tasks takes about 45 ms either way.
final class TaskRegistry: Sendable {
    /// The id of the registered task running now (0 outside one).
    @TaskLocal static var currentID: UInt64 = 0

    private struct State {
        var nextID: UInt64 = 1
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var stopped = false
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Tasks running now.
    var count: Int { state.withLock { $0.tasks.count } }

    /// Starts `job` as a task of its own; does nothing once stopped.
    /// - Complexity: O(1) expected, one lock.
    func spawn(_ job: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            guard !s.stopped else { return }
            let id = s.nextID
            s.nextID &+= 1
            // Made under the lock, so it is registered before it can finish.
            s.tasks[id] = Task { [self] in
                await TaskRegistry.$currentID.withValue(id) { await job() }
                finished(id)
            }
        }
    }

    private func finished(_ id: UInt64) {
        let resume = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.tasks.removeValue(forKey: id)
            guard s.stopped, s.tasks.isEmpty else { return [] }
            defer { s.drainWaiters.removeAll() }
            return s.drainWaiters
        }
        for c in resume { c.resume() }
    }

    /// Stops spawning and cancels every task: those in `first` in that order, then the rest.
    /// Idempotent.
    func stop(cancellingFirst first: [UInt64]) {
        let tasks = state.withLock { s -> [UInt64: Task<Void, Never>] in
            s.stopped = true
            return s.tasks
        }
        for id in first { tasks[id]?.cancel() }
        for task in tasks.values { task.cancel() }
    }

    /// Returns once stopped and every task has returned.
    func drained() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                guard s.stopped, s.tasks.isEmpty else { s.drainWaiters.append(c); return false }
                return true
            }
            if done { c.resume() }
        }
    }
}
