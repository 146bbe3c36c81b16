import Synchronization

/// The lock-protected inside of an async ``Bucket``: the exact state plus the FIFO queue of
/// suspended tasks, each holding the reservation it waits on.
///
/// Invariant: the waiters' reservations are the latest ones in `state`, in queue order, so the
/// queue can be unwound from its tail with exact rollbacks.
///
/// Cancellation is lazy and coalesced: a cancelled waiter is resumed at once and marked; the
/// queue behind the earliest mark is re-planned (unwound from the tail, re-reserved in order) by
/// the next operation on the bucket, or by the timer at most ``flushDelay`` later. A burst of
/// N cancellations therefore costs one O(N) re-plan, not N of them. Cancelling the tail with
/// nothing marked is an exact O(1) refund on the spot.
@usableFromInline
struct BucketCore {
    @usableFromInline var state: BucketState
    /// Suspended tasks, oldest first, from `head` on (entries before `head` are served).
    var waiters: [Waiter] = []
    var head = 0
    var queuedUnits: Int64 = 0
    /// Index of the earliest cancelled waiter not yet unwound, and when the timer re-plans.
    @usableFromInline var dirtyFrom: Int?
    var flushDeadline: Nanoseconds?

    /// Waiter ids are handed out here, in queue order, so the queue stays sorted by id.
    var lastID: UInt64 = 0

    var timer: Task<Void, Never>?
    var timerDeadline: Nanoseconds?
    var timerGeneration: UInt64 = 0

    /// How long cancellations may wait to be coalesced before the queue behind them moves up.
    static let flushDelay: Nanoseconds = 1_000_000

    @usableFromInline
    init(state: BucketState) { self.state = state }

    var headAdmission: Nanoseconds? { head < waiters.count ? waiters[head].reservation.admitAt : nil }

    /// When the timer must next wake: the first admission, or the pending re-plan.
    var nextWake: Nanoseconds? {
        switch (headAdmission, flushDeadline) {
        case let (a?, f?): return Swift.min(a, f)
        case let (a, f): return a ?? f
        }
    }

    // MARK: Queue operations (each appends the continuations to resume to `effects`)

    /// Reserves for a new waiter and queues it, or settles it at once (cancelled, past its
    /// deadline, admitted now).
    mutating func enqueue(_ waiter: Waiter, ticket: WaiterTicket, at now: Nanoseconds, cancelled: Bool, effects: inout Effects) {
        let t = Swift.max(now, state.lastSeenTime)
        popDue(at: t, effects: &effects)
        if cancelled {
            effects.fail(waiter, CancellationError())
            return
        }
        lastID += 1
        var waiter = waiter
        waiter.id = lastID
        ticket.id.store(lastID, ordering: .relaxed)
        append(waiter, at: t, failPastDeadline: true, effects: &effects)
        popDue(at: t, effects: &effects)
    }

    /// Resumes a cancelled waiter with `CancellationError` and marks its tokens for giving
    /// back (at once if it is the tail). A waiter whose admission instant has passed is left
    /// to be admitted: the tokens were already its own.
    mutating func cancel(_ ticket: WaiterTicket, at now: Nanoseconds, effects: inout Effects) {
        let t = Swift.max(now, state.lastSeenTime)
        let id = ticket.id.load(ordering: .relaxed)
        guard id != 0, let i = index(of: id), !waiters[i].cancelled,
              waiters[i].reservation.admitAt > t else { return }
        effects.fail(waiters[i], CancellationError())
        if i == waiters.count - 1, dirtyFrom == nil, state.rollBackTail(&waiters[i].reservation) {
            queuedUnits -= waiters[i].units
            waiters.removeLast()
            compact()
            return
        }
        waiters[i].cancelled = true
        dirtyFrom = Swift.min(dirtyFrom ?? i, i)
        if flushDeadline == nil { flushDeadline = t + BucketCore.flushDelay }
    }

    /// The queue position of waiter `id` (binary search: ids grow in queue order).
    private func index(of id: UInt64) -> Int? {
        var lo = head, hi = waiters.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if waiters[mid].id < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < waiters.count && waiters[lo].id == id ? lo : nil
    }

    /// Unwinds every waiting reservation, applies `change` to the bare state, and reserves the
    /// waiters again in order.
    mutating func replanAll(at now: Nanoseconds, effects: inout Effects, change: (inout BucketState, Nanoseconds) -> Void) {
        let t = Swift.max(now, state.lastSeenTime)
        popDue(at: t, effects: &effects)
        let all = unwind(from: head)
        change(&state, t)
        for w in all { append(w, at: t, failPastDeadline: true, effects: &effects) }
        popDue(at: t, effects: &effects)
    }

    /// Re-plans the queue behind cancelled waiters: they leave, and the waiters behind them are
    /// reserved again, in order, as of `now` (so they move up by what was given back).
    @usableFromInline
    mutating func flush(at now: Nanoseconds) {
        guard dirtyFrom != nil else { return }
        let t = Swift.max(now, state.lastSeenTime)
        var unused = Effects()
        let all = unwind(from: dirtyFrom!)
        dirtyFrom = nil
        flushDeadline = nil
        // Moving up never pushes a waiter past its deadline (the re-plan instant is never later
        // than an admission that is still in the future).
        for w in all { append(w, at: t, failPastDeadline: false, effects: &unused) }
    }

    /// Resumes, in order, every waiter whose admission instant is not after `now`.
    mutating func popDue(at now: Nanoseconds, effects: inout Effects) {
        flush(at: now)
        while head < waiters.count, waiters[head].reservation.admitAt <= now {
            let w = waiters[head]
            queuedUnits -= w.units
            effects.admit(w)
            head += 1
        }
        compact()
    }

    private mutating func compact() {
        if head == waiters.count {
            waiters.removeAll(keepingCapacity: waiters.count <= 4096)
            head = 0
        } else if head >= 1024, head * 2 >= waiters.count {
            waiters.removeFirst(head)
            head = 0
        }
    }

    /// Rolls back the reservations of the waiters from index `i` on, from the tail, and removes
    /// them from the queue; returns the ones not cancelled, in queue order. A reservation that
    /// is no longer the latest in the state (an immediate admission slipped in after it) cannot
    /// be rolled back exactly: it and everything before it keep their tokens (never more than
    /// the bucket allows), and cancelled ones among them just leave the queue.
    private mutating func unwind(from i: Int) -> [Waiter] {
        guard i < waiters.count else { return [] }
        var j = waiters.count - 1
        while j >= i, state.rollBackTail(&waiters[j].reservation) { j -= 1 }
        let unwound = waiters[(j + 1)...]
        for w in unwound { queuedUnits -= w.units }
        let kept = unwound.filter { !$0.cancelled }
        waiters.removeSubrange((j + 1)...)
        if j >= i {
            var k = j
            while k >= i {
                if waiters[k].cancelled {
                    queuedUnits -= waiters[k].units
                    waiters.remove(at: k)
                }
                k -= 1
            }
        }
        return kept
    }

    /// Reserves for `w` at `t` behind the queue, or fails it (cost above capacity, deadline).
    private mutating func append(_ w: Waiter, at t: Nanoseconds, failPastDeadline: Bool, effects: inout Effects) {
        guard w.units <= state.capacityUnits else {
            effects.fail(w, BucketError.costExceedsCapacity(cost: TokenUnits.tokens(w.units), capacity: state.configuration.capacity))
            return
        }
        if failPastDeadline, let d = w.deadline {
            let admit = state.admissionTime(units: w.units, at: t)
            if admit > d {
                effects.fail(w, BucketError.deadlineExceeded(wouldAdmitAfter: .nanoseconds(admit - t), allowed: .nanoseconds(d - t)))
                return
            }
        }
        var w = w
        w.reservation = state.reserve(units: w.units, at: t)
        queuedUnits += w.units
        waiters.append(w)
    }

    // MARK: Read-out

    mutating func snapshot(at now: Nanoseconds) -> BucketSnapshot {
        let t = Swift.max(now, state.lastSeenTime)
        flush(at: t)
        let count = waiters.count - head
        return BucketSnapshot(
            configuration: state.configuration,
            at: .nanoseconds(t),
            tokens: state.tokens(at: t),
            balance: state.balance(at: t),
            waiters: count,
            queuedCost: TokenUnits.tokens(queuedUnits),
            oldestWait: count > 0 ? .nanoseconds(Swift.max(0, t - waiters[head].requestedAt)) : .zero,
            nextAdmission: headAdmission.map { .nanoseconds($0) })
    }
}

/// A task suspended in ``Bucket/acquire(_:)``.
struct Waiter {
    /// Position in arrival order, assigned under the lock when queued.
    var id: UInt64 = 0
    let units: Int64
    /// When the task called `acquire` (kept across re-plans, for the oldest-wait read-out).
    let requestedAt: Nanoseconds
    /// Latest acceptable admission, if any.
    let deadline: Nanoseconds?
    let continuation: UnsafeContinuation<Nanoseconds, any Error>
    var reservation: Reservation
    /// Resumed with `CancellationError`; its reservation waits for the next re-plan.
    var cancelled = false

    init(units: Int64, requestedAt: Nanoseconds, deadline: Nanoseconds?,
         continuation: UnsafeContinuation<Nanoseconds, any Error>) {
        self.units = units
        self.requestedAt = requestedAt
        self.deadline = deadline
        self.continuation = continuation
        self.reservation = Reservation(costUnits: 0, requestedAt: requestedAt, admitAt: requestedAt,
                                       reservedThrough: 0, floorBefore: .min)
    }
}

/// How a cancellation handler finds its waiter: the id is set, under the lock, when the
/// waiter is queued (0 until then; a task cancelled before that is refused at enqueue).
final class WaiterTicket: Sendable {
    let id = Atomic<UInt64>(0)
}

/// Continuations to resume once the lock is released, in order.
struct Effects {
    private var items: [(UnsafeContinuation<Nanoseconds, any Error>, Result<Nanoseconds, any Error>)] = []

    mutating func admit(_ w: Waiter) { items.append((w.continuation, .success(w.reservation.admitAt))) }
    mutating func fail(_ w: Waiter, _ error: any Error) { items.append((w.continuation, .failure(error))) }

    func resumeAll() {
        for (continuation, result) in items { continuation.resume(with: result) }
    }
}
