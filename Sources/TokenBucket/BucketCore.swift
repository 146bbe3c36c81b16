/// The lock-protected inside of an async ``Bucket``: the exact state plus the FIFO queue of
/// suspended tasks, each holding the reservation it waits on.
///
/// Invariant: the waiters' reservations are the latest ones in `state`, in queue order, so the
/// queue can always be unwound from its tail with exact, full refunds.
@usableFromInline
struct BucketCore {
    @usableFromInline var state: BucketState
    /// Suspended tasks, oldest first, from `head` on (entries before `head` are served).
    var waiters: [Waiter] = []
    var head = 0
    var queuedUnits: Int64 = 0

    var timer: Task<Void, Never>?
    var timerDeadline: Nanoseconds?
    var timerGeneration: UInt64 = 0

    @usableFromInline
    init(state: BucketState) { self.state = state }

    var headAdmission: Nanoseconds? { head < waiters.count ? waiters[head].reservation.admitAt : nil }

    // MARK: Queue operations (each appends the continuations to resume to `effects`)

    /// Reserves for a new waiter and queues it, or settles it at once (cancelled, past its
    /// deadline, admitted now).
    mutating func enqueue(_ waiter: Waiter, at now: Nanoseconds, cancelled: Bool, effects: inout Effects) {
        let t = Swift.max(now, state.lastSeenTime)
        popDue(at: t, effects: &effects)
        if cancelled {
            effects.fail(waiter, CancellationError())
            return
        }
        append(waiter, at: t, effects: &effects)
        popDue(at: t, effects: &effects)
    }

    /// Removes a cancelled waiter, gives its tokens back and moves the ones behind it up.
    mutating func cancel(id: UInt64, at now: Nanoseconds, effects: inout Effects) {
        let t = Swift.max(now, state.lastSeenTime)
        popDue(at: t, effects: &effects)     // admitted ones are not cancelled
        guard let i = waiters[head...].firstIndex(where: { $0.id == id }) else { return }
        let unwound = unwind(from: i, at: t)
        effects.fail(unwound[0], CancellationError())
        for w in unwound.dropFirst() { append(w, at: t, effects: &effects) }
        popDue(at: t, effects: &effects)
    }

    /// Unwinds every waiting reservation, applies `change` to the bare state, and reserves the
    /// waiters again in order.
    mutating func replanAll(at now: Nanoseconds, effects: inout Effects, change: (inout BucketState, Nanoseconds) -> Void) {
        let t = Swift.max(now, state.lastSeenTime)
        popDue(at: t, effects: &effects)
        let all = unwind(from: head, at: t)
        change(&state, t)
        for w in all { append(w, at: t, effects: &effects) }
        popDue(at: t, effects: &effects)
    }

    /// Resumes, in order, every waiter whose admission instant is not after `now`.
    mutating func popDue(at now: Nanoseconds, effects: inout Effects) {
        while head < waiters.count, waiters[head].reservation.admitAt <= now {
            let w = waiters[head]
            queuedUnits -= w.units
            effects.admit(w)
            head += 1
        }
        if head == waiters.count {
            waiters.removeAll(keepingCapacity: waiters.count <= 4096)
            head = 0
        } else if head >= 1024, head * 2 >= waiters.count {
            waiters.removeFirst(head)
            head = 0
        }
    }

    /// Cancels the reservations of the waiters from index `i` on, from the tail (each an exact
    /// full refund), and removes them from the queue; returns them in queue order.
    private mutating func unwind(from i: Int, at t: Nanoseconds) -> [Waiter] {
        guard i < waiters.count else { return [] }
        var j = waiters.count - 1
        while j >= i {
            state.cancel(&waiters[j].reservation, at: t)
            queuedUnits -= waiters[j].units
            j -= 1
        }
        let unwound = Array(waiters[i...])
        waiters.removeSubrange(i...)
        return unwound
    }

    /// Reserves for `w` at `t` behind the queue, or fails it (cost above capacity, deadline).
    private mutating func append(_ w: Waiter, at t: Nanoseconds, effects: inout Effects) {
        guard w.units <= state.capacityUnits else {
            effects.fail(w, BucketError.costExceedsCapacity(cost: TokenUnits.tokens(w.units), capacity: state.configuration.capacity))
            return
        }
        let admit = state.admissionTime(units: w.units, at: t)
        if let d = w.deadline, admit > d {
            effects.fail(w, BucketError.deadlineExceeded(wouldAdmitAfter: .nanoseconds(admit - t), allowed: .nanoseconds(d - t)))
            return
        }
        var w = w
        w.reservation = state.reserve(units: w.units, at: t)
        queuedUnits += w.units
        waiters.append(w)
    }

    // MARK: Read-out

    func snapshot(at now: Nanoseconds) -> BucketSnapshot {
        let t = Swift.max(now, state.lastSeenTime)
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
    let id: UInt64
    let units: Int64
    /// When the task called `acquire` (kept across re-plans, for the oldest-wait read-out).
    let requestedAt: Nanoseconds
    /// Latest acceptable admission, if any.
    let deadline: Nanoseconds?
    let continuation: UnsafeContinuation<Nanoseconds, any Error>
    var reservation: Reservation

    init(id: UInt64, units: Int64, requestedAt: Nanoseconds, deadline: Nanoseconds?,
         continuation: UnsafeContinuation<Nanoseconds, any Error>) {
        self.id = id
        self.units = units
        self.requestedAt = requestedAt
        self.deadline = deadline
        self.continuation = continuation
        self.reservation = Reservation(costUnits: 0, requestedAt: requestedAt, admitAt: requestedAt,
                                       reservedThrough: 0, floorBefore: .min)
    }
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
