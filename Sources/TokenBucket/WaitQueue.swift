/// What the waiting engine needs from the exact state it queues tasks on: reserve a claim at an
/// instant, tell when a claim would be admitted, and roll the latest reservation back exactly.
///
/// ``BucketState`` (one bucket), ``KeyedBucketState`` (a key's bucket and its parent's) and
/// ``LLMLimiterState`` (every limited dimension together) conform, so ``Bucket``,
/// ``KeyedBuckets`` and ``LLMLimiter`` share one implementation of waiting (``WaitQueue``).
@usableFromInline
protocol WaitLedger: Sendable {
    /// What a waiter asks for (a cost; a key, its parent and a cost; an LLM request).
    associatedtype Claim: Sendable
    /// The reservation made for a claim.
    associatedtype Hold: Sendable

    /// Why `claim` can never be admitted as configured now (a cost above a capacity), or nil.
    func refusal(_ claim: Claim) -> BucketError?
    /// The latest time the state has seen (earlier times are treated as this one).
    var timeFloor: Nanoseconds { get }
    /// When a reservation of `claim` made at `t`, not admitted before `notBefore`, would be admitted.
    func admission(_ claim: Claim, at t: Nanoseconds, notBefore: Nanoseconds) -> Nanoseconds
    /// Reserves `claim` at `t`, not admitted before `notBefore`.
    mutating func reserve(_ claim: Claim, at t: Nanoseconds, notBefore: Nanoseconds) -> Hold
    /// The admission instant of a reservation.
    func admitAt(_ hold: Hold) -> Nanoseconds
    /// Rolls `hold` back exactly, as if it had never been made, when it is the latest
    /// reservation on every bucket it took from; otherwise changes nothing and returns false.
    mutating func rollBack(_ hold: inout Hold) -> Bool
    /// The claim's size for queue read-outs, in nano-tokens.
    func units(_ claim: Claim) -> Int64

    /// Whether the ledger can hand its state to a ``LockFreeLane`` (only ``BucketState``).
    static var hasLane: Bool { get }
    /// The lane's seed when the lane may open now, or nil.
    func laneSeed() -> LaneSeed?
    /// Takes the state back from a lane that was open (its scaled full time).
    mutating func absorbLane(_ tat: Int128)
}

extension WaitLedger {
    @usableFromInline static var hasLane: Bool { false }
    @usableFromInline func laneSeed() -> LaneSeed? { nil }
    @usableFromInline mutating func absorbLane(_ tat: Int128) {}
}

/// One FIFO queue of suspended tasks over a ``WaitLedger``, with its timer: the waiting engine
/// of every async limiter in this library (one queue per ``Bucket``, per ``LLMLimiter``, and
/// per keyed bucket with waiters in ``KeyedBuckets``).
///
/// Invariant: the waiters' reservations are the latest ones on the buckets they took from, in
/// queue order, so the queue can be unwound from its tail with exact rollbacks. Admission
/// instants grow along the queue (each waiter is reserved no earlier than the one before it),
/// so the timer only ever needs the head's.
///
/// Cancellation is lazy and coalesced: a cancelled waiter is resumed at once and marked; the
/// queue behind the earliest mark is re-planned (unwound from the tail, re-reserved in order) by
/// the next operation on the queue, or by the timer once cancellations have paused for
/// ``flushDelay`` (1 ms), and at the latest ``longestFlushDelay`` (10 ms) after the first of
/// them. A burst of N cancellations therefore costs one O(waiters) re-plan, not N of them,
/// however long the burst lasts: a task group cancelling 10,000 waiters over 100 queues
/// (head first, so each queue's remainder must move up) re-plans each queue about once per
/// 10 ms instead of once per millisecond, which used to cost more than the cancellations
/// themselves. Until the re-plan, waiters keep their earlier, later-or-equal admission
/// instants: a delay never makes a waiter later than it was planned. Cancelling the tail
/// with nothing marked is an exact O(1) rollback on the spot.
@usableFromInline
struct WaitQueue<Ledger: WaitLedger>: Sendable {
    typealias Continuation = UnsafeContinuation<Ledger.Hold, any Error>

    /// Suspended tasks, oldest first, from `head` on (entries before `head` are served).
    var waiters: [QueuedWaiter<Ledger>] = []
    var head = 0
    var queuedUnits: Int64 = 0
    /// Index of the earliest cancelled waiter not yet unwound, and when the timer re-plans.
    var dirtyFrom: Int? {
        didSet { if dirtyFrom == nil { marked = 0; dirtySince = nil } }
    }
    var flushDeadline: Nanoseconds?
    /// When the first cancellation still awaiting the re-plan came (bounds the debounce).
    var dirtySince: Nanoseconds?
    /// Cancelled waiters still in `waiters`, waiting for the re-plan (always at or after `dirtyFrom`).
    var marked = 0

    var timer: Task<Void, Never>?
    var timerDeadline: Nanoseconds?
    var timerGeneration: UInt64 = 0

    /// The pause in cancellations after which the queue behind them moves up.
    static var flushDelay: Nanoseconds { 1_000_000 }
    /// The longest a cancellation waits for its re-plan while more keep coming.
    static var longestFlushDelay: Nanoseconds { 10_000_000 }

    init() {}

    /// Tasks waiting (cancelled ones awaiting the re-plan are not counted).
    var count: Int { waiters.count - head - marked }
    var isEmpty: Bool { head == waiters.count }
    /// Nothing queued, nothing to re-plan, no timer: the queue may be dropped.
    var isIdle: Bool { isEmpty && dirtyFrom == nil && timer == nil }

    func headAdmission(_ ledger: Ledger) -> Nanoseconds? {
        head < waiters.count ? ledger.admitAt(waiters[head].hold!) : nil
    }

    /// When the timer must next wake: the first admission, or the pending re-plan.
    func nextWake(_ ledger: Ledger) -> Nanoseconds? {
        switch (headAdmission(ledger), flushDeadline) {
        case let (a?, f?): return Swift.min(a, f)
        case let (a, f): return a ?? f
        }
    }

    /// The admission instant of the last waiter: no later waiter is admitted before it.
    private func floor(_ ledger: Ledger) -> Nanoseconds {
        head < waiters.count ? ledger.admitAt(waiters[waiters.count - 1].hold!) : .min
    }

    // MARK: Queue operations (each appends the continuations to resume to `effects`)

    /// What ``takeNow(_:at:deadline:ledger:effects:)`` decided.
    enum Immediate {
        case taken(Ledger.Hold)
        case wait
        case refused(BucketError)
    }

    /// Takes `claim` at once when nobody waits here and the ledger admits it now; refuses it
    /// at once when it can never be admitted or not by `deadline`.
    mutating func takeNow(_ claim: Ledger.Claim, at now: Nanoseconds, deadline: Nanoseconds?,
                          ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) -> Immediate {
        let t = Swift.max(now, ledger.timeFloor)
        popDue(at: t, ledger: &ledger, effects: &effects)
        if let refusal = ledger.refusal(claim) { return .refused(refusal) }
        let admit = ledger.admission(claim, at: t, notBefore: floor(ledger))
        if let d = deadline, admit > d {
            return .refused(.deadlineExceeded(wouldAdmitAfter: .nanoseconds(admit - t), allowed: .nanoseconds(d - t)))
        }
        guard isEmpty, admit <= t else { return .wait }
        return .taken(ledger.reserve(claim, at: t, notBefore: .min))
    }

    /// Reserves for a new waiter and queues it, or settles it at once (cancelled, past its
    /// deadline, admitted now). `id` must grow with every call on this queue.
    mutating func enqueue(_ waiter: QueuedWaiter<Ledger>, at now: Nanoseconds, cancelled: Bool,
                          ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) {
        let t = Swift.max(now, ledger.timeFloor)
        popDue(at: t, ledger: &ledger, effects: &effects)
        if cancelled {
            effects.fail(waiter.continuation, CancellationError())
            return
        }
        append(waiter, at: t, failPastDeadline: true, ledger: &ledger, effects: &effects)
        popDue(at: t, ledger: &ledger, effects: &effects)
    }

    /// Resumes a cancelled waiter with `CancellationError` and marks its tokens for giving
    /// back (at once if it is the tail). A waiter whose admission instant has passed is left
    /// to be admitted: the tokens were already its own.
    mutating func cancel(id: UInt64, at now: Nanoseconds, ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) {
        let t = Swift.max(now, ledger.timeFloor)
        guard id != 0, let i = index(of: id), !waiters[i].cancelled,
              ledger.admitAt(waiters[i].hold!) > t else { return }
        effects.fail(waiters[i].continuation, CancellationError())
        if i == waiters.count - 1, dirtyFrom == nil, ledger.rollBack(&waiters[i].hold!) {
            queuedUnits -= waiters[i].units
            waiters.removeLast()
            compact()
            return
        }
        waiters[i].cancelled = true
        dirtyFrom = Swift.min(dirtyFrom ?? i, i)
        marked += 1
        let since = dirtySince ?? t
        dirtySince = since
        flushDeadline = Swift.min(t + WaitQueue.flushDelay, since + WaitQueue.longestFlushDelay)
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

    /// Unwinds every waiting reservation (settling due ones first) and returns the waiters
    /// still waiting, in order; ``reappend(_:at:ledger:effects:)`` queues them again.
    mutating func unwindAll(at now: Nanoseconds, ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) -> [QueuedWaiter<Ledger>] {
        let t = Swift.max(now, ledger.timeFloor)
        popDue(at: t, ledger: &ledger, effects: &effects)
        dirtyFrom = nil
        flushDeadline = nil
        return unwind(from: head, ledger: &ledger)
    }

    /// Queues waiters taken out by ``unwindAll(at:ledger:effects:)`` again, in the order
    /// given, at the ledger's rate as of `now`; those that no longer fit fail.
    mutating func reappend(_ all: [QueuedWaiter<Ledger>], at now: Nanoseconds, ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) {
        let t = Swift.max(now, ledger.timeFloor)
        for w in all { append(w, at: t, failPastDeadline: true, ledger: &ledger, effects: &effects) }
        popDue(at: t, ledger: &ledger, effects: &effects)
    }

    /// Re-plans the queue behind cancelled waiters: they leave, and the waiters behind them are
    /// reserved again, in order, as of `now` (so they move up by what was given back).
    mutating func flush(at now: Nanoseconds, ledger: inout Ledger) {
        guard let from = dirtyFrom else { return }
        let t = Swift.max(now, ledger.timeFloor)
        var unused = Effects<Ledger.Hold>()
        let all = unwind(from: from, ledger: &ledger)
        dirtyFrom = nil
        flushDeadline = nil
        // Moving up never pushes a waiter past its deadline (the re-plan instant is never later
        // than an admission that is still in the future).
        for w in all { append(w, at: t, failPastDeadline: false, ledger: &ledger, effects: &unused) }
    }

    /// Resumes, in order, every waiter whose admission instant is not after `now`.
    mutating func popDue(at now: Nanoseconds, ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) {
        flush(at: now, ledger: &ledger)
        while head < waiters.count, ledger.admitAt(waiters[head].hold!) <= now {
            let w = waiters[head]
            queuedUnits -= w.units
            effects.admit(w.continuation, w.hold!)
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
    /// is no longer the latest on its buckets (something was taken after it: a charge, or a
    /// waiter of another queue on a shared bucket) cannot be rolled back exactly: it and
    /// everything before it keep their tokens (never more than the buckets allow), and
    /// cancelled ones among them just leave the queue.
    private mutating func unwind(from i: Int, ledger: inout Ledger) -> [QueuedWaiter<Ledger>] {
        guard i < waiters.count else { return [] }
        var j = waiters.count - 1
        while j >= i, ledger.rollBack(&waiters[j].hold!) { j -= 1 }
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

    /// Reserves for `w` at `t` behind the queue, or fails it (refused, past its deadline).
    private mutating func append(_ w: QueuedWaiter<Ledger>, at t: Nanoseconds, failPastDeadline: Bool,
                                 ledger: inout Ledger, effects: inout Effects<Ledger.Hold>) {
        if let refusal = ledger.refusal(w.claim) {
            effects.fail(w.continuation, refusal)
            return
        }
        let notBefore = floor(ledger)
        if failPastDeadline, let d = w.deadline {
            let admit = ledger.admission(w.claim, at: t, notBefore: notBefore)
            if admit > d {
                effects.fail(w.continuation, BucketError.deadlineExceeded(wouldAdmitAfter: .nanoseconds(admit - t),
                                                                          allowed: .nanoseconds(d - t)))
                return
            }
        }
        var w = w
        w.hold = ledger.reserve(w.claim, at: t, notBefore: notBefore)
        queuedUnits += w.units
        waiters.append(w)
    }

    /// The longest wait among the queued tasks at `t`.
    func oldestWait(at t: Nanoseconds) -> Nanoseconds {
        head < waiters.count ? Swift.max(0, t - waiters[head].requestedAt) : 0
    }
}

/// A task suspended in an async `acquire`.
struct QueuedWaiter<Ledger: WaitLedger>: Sendable {
    /// Position in arrival order, assigned under the lock when queued.
    let id: UInt64
    let claim: Ledger.Claim
    let units: Int64
    /// When the task called `acquire` (kept across re-plans, for the oldest-wait read-out).
    let requestedAt: Nanoseconds
    /// Latest acceptable admission, if any.
    let deadline: Nanoseconds?
    let continuation: UnsafeContinuation<Ledger.Hold, any Error>
    /// The reservation it waits on (set when queued).
    var hold: Ledger.Hold?
    /// Resumed with `CancellationError`; its reservation waits for the next re-plan.
    var cancelled = false
}

/// Continuations to resume once the lock is released, in order.
struct Effects<Hold: Sendable>: Sendable {
    private var items: [(UnsafeContinuation<Hold, any Error>, Result<Hold, any Error>)] = []

    mutating func admit(_ c: UnsafeContinuation<Hold, any Error>, _ hold: Hold) { items.append((c, .success(hold))) }
    mutating func fail(_ c: UnsafeContinuation<Hold, any Error>, _ error: any Error) { items.append((c, .failure(error))) }

    func resumeAll() {
        for (continuation, result) in items { continuation.resume(with: result) }
    }
}
