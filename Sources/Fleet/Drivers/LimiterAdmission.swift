import Synchronization
import TokenBucket

/// A client-side bucket of ``TaskFleet`` in the library limiter: a key index of one keying's
/// table (parents live in the limiter's parent namespace under the same kind of key).
struct BucketKey: Hashable, Sendable {
    var keying: Keying
    var index: Int32
}

/// What a waiting task reported, for the driver to apply to the core in order.
struct WaitOutcome: Sendable {
    enum Kind: Sendable {
        /// The limiter admitted it at `at` (fleet ns).
        case admitted
        /// The limiter refused it; `atOnce`: at the instant it began to wait.
        case refused(atOnce: Bool)
    }
    var slot: Int32
    var gen: UInt32
    var kind: Kind
    /// Fleet time of the outcome (the limiter's admission instant, or the refusal's).
    var at: Nanoseconds
    /// Order in which the waits began (ties at one instant are applied in this order).
    var id: UInt64
    var key: BucketKey
    var parent: BucketKey?
    var cost: Double
}

/// The ``AdmissionPort`` of ``TaskFleet``: every request that must wait at a client-side
/// bucket is a Swift task awaiting `KeyedBuckets.acquire(_:for:parent:timeout:)`, the
/// library's FIFO waiting engine (exact give-back on cancellation, re-planning on every
/// configuration change, parents admitted all or nothing with the child).
///
/// Tasks start with `Task.immediate`, so a request joins the limiter's queue synchronously,
/// under the driver's lock, in the core's order (arrival order; a keying switch's re-entries in
/// their original order); each then records its outcome for ``takeOutcomes()`` and calls
/// ``wake``, which must not take the driver's lock (it may run inside it).
final class LimiterAdmission: AdmissionPort {
    let limiter: KeyedBuckets<BucketKey>
    /// The limiter's time minus the fleet's (ns): the fleet's time zero comes `lead` after the
    /// limiter is made.
    let offset: Nanoseconds

    private struct Waits: Sendable {
        var nextID: UInt64 = 0
        /// Live waiting tasks by id (cancelled ones too, until they have returned).
        var tasks: [UInt64: Task<Void, Never>] = [:]
        /// Tasks started and not yet returned.
        var alive = 0
        /// Tasks that returned before their handle was stored.
        var returned: Set<UInt64> = []
        /// The current wait of each request slot.
        var bySlot: [Int32: UInt64] = [:]
        /// Tasks per queue of the limiter (a parent's when the key has one), while alive.
        var perQueue: [BucketKey: Int] = [:]
        var outcomes: [WaitOutcome] = []
    }
    private let waits = Mutex(Waits())
    /// Called after each outcome is recorded, possibly inside the driver's lock: it only
    /// signals (the paced driver's applier task then applies the outcomes).
    let wake = Mutex<(@Sendable () -> Void)?>(nil)

    /// The limiter's default for keys and parents: never used to admit (every key gets its
    /// configuration through `configure` before its first use), but a key's override starts
    /// from the default's level capped at the new capacity, so the default is a bucket larger
    /// than any the fleet sets: each key starts full.
    static let startFull = try! BucketConfiguration(capacity: 1e9, refillPerSecond: 1e6)   // the largest capacity allowed

    init<C: Clock>(clock: C, lead: Duration) where C.Duration == Duration {
        limiter = KeyedBuckets(Self.startFull, parent: Self.startFull, clock: clock)
        let (s, a) = lead.components
        offset = s * 1_000_000_000 + a / 1_000_000_000
    }

    // MARK: AdmissionPort

    func configure(key: Int32, keying: Keying, isParent: Bool, _ configuration: BucketConfiguration) {
        let k = BucketKey(keying: keying, index: key)
        if isParent {
            try? limiter.setParentOverride(configuration, for: k)   // parents are enabled at init: cannot throw
        } else {
            limiter.setOverride(configuration, for: k)
        }
    }

    func tryAdmit(key: Int32, parent: Int32, keying: Keying, units: Int64) -> Bool {
        let p = parent >= 0 ? BucketKey(keying: keying, index: parent) : nil
        // The core has checked the cost against both capacities: this cannot throw.
        return (try? limiter.tryAcquire(TokenUnits.tokens(units), for: BucketKey(keying: keying, index: key), parent: p)) ?? false
    }

    func wait(slot: Int32, gen: UInt32, key: Int32, parent: Int32, keying: Keying, units: Int64,
              deadline: Nanoseconds, now: Nanoseconds) {
        let k = BucketKey(keying: keying, index: key)
        let p = parent >= 0 ? BucketKey(keying: keying, index: parent) : nil
        let cost = TokenUnits.tokens(units)
        let timeout: Duration? = deadline == .max ? nil : .nanoseconds(Swift.max(0, deadline - now))
        let queue = p ?? k
        let id = waits.withLock { w -> UInt64 in
            w.nextID &+= 1
            w.bySlot[slot] = w.nextID
            w.alive += 1
            w.perQueue[queue, default: 0] += 1
            return w.nextID
        }
        let (limiter, offset) = (limiter, offset)
        let began = limiter.now
        // Runs synchronously until it suspends in the limiter's queue (or is decided at once).
        let task = Task.immediate { [self] in
            let kind: WaitOutcome.Kind?
            var at: Nanoseconds
            do {
                let a = try await limiter.acquire(cost, for: k, parent: p, timeout: timeout)
                kind = .admitted
                at = Nanoseconds(a.admittedAt.components.seconds) * 1_000_000_000
                    + Nanoseconds(a.admittedAt.components.attoseconds / 1_000_000_000)
            } catch is CancellationError {
                kind = nil
                at = 0
            } catch {
                let t = limiter.now
                kind = .refused(atOnce: t == began)
                at = t
            }
            at -= offset
            // Only records the outcome (and signals the driver's applier task): safe even when
            // decided at once, on the spawner's thread, inside the driver's lock.
            self.finished(id: id, slot: slot, queue: queue,
                          outcome: kind.map { WaitOutcome(slot: slot, gen: gen, kind: $0, at: at, id: id, key: k, parent: p, cost: cost) })
        }
        waits.withLock { w in
            // It may have returned already (on another thread, after its first suspension).
            if w.returned.remove(id) == nil { w.tasks[id] = task }
        }
    }

    func cancelWait(slot: Int32) {
        let task = waits.withLock { w -> Task<Void, Never>? in
            guard let id = w.bySlot.removeValue(forKey: slot) else { return nil }
            return w.tasks[id]
        }
        // Runs the limiter's cancellation handler here: the tokens are back when this returns.
        task?.cancel()
    }

    func tokens(key: Int32, parent: Int32, keying: Keying, isParent: Bool) -> Double {
        let k = BucketKey(keying: keying, index: key)
        if isParent { return limiter.parentTokens(for: k) ?? 0 }
        return limiter.tokens(for: k, parent: parent >= 0 ? BucketKey(keying: keying, index: parent) : nil)
    }

    // MARK: Tasks

    private func finished(id: UInt64, slot: Int32, queue: BucketKey, outcome: WaitOutcome?) {
        let wake = waits.withLock { w -> (@Sendable () -> Void)? in
            if w.tasks.removeValue(forKey: id) == nil { w.returned.insert(id) }
            w.alive -= 1
            if w.bySlot[slot] == id { w.bySlot[slot] = nil }
            let n = (w.perQueue[queue] ?? 1) - 1
            w.perQueue[queue] = n > 0 ? n : nil
            guard let outcome else { return nil }
            w.outcomes.append(outcome)
            return self.wake.withLock { $0 }
        }
        wake?()
    }

    /// Outcomes reported so far, in the order to apply them: by instant, then by the order in
    /// which their waits began.
    func takeOutcomes() -> [WaitOutcome] {
        var out = waits.withLock { w -> [WaitOutcome] in
            defer { w.outcomes.removeAll(keepingCapacity: true) }
            return w.outcomes
        }
        if out.count > 1 { out.sort { ($0.at, $0.id) < ($1.at, $1.id) } }
        return out
    }

    /// Gives an admission nobody will use back to the limiter (a stale wait, or one after a stop).
    func giveBack(_ o: WaitOutcome) {
        try? limiter.refund(o.cost, for: o.key, parent: o.parent)
    }

    /// Cancels every waiting task; returns them all (cancelled earlier ones too) to be awaited.
    func cancelAll() -> [Task<Void, Never>] {
        let all = waits.withLock { w -> [Task<Void, Never>] in
            w.bySlot.removeAll()
            return Array(w.tasks.values)
        }
        for t in all { t.cancel() }
        return all
    }

    /// Waiting tasks alive now (in a queue, or decided and not yet reported).
    var liveTasks: Int { waits.withLock { $0.alive } }

    /// Limiter queues that hold live tasks (each has one timer asleep on the clock).
    var queuesWithWaiters: Int { waits.withLock { $0.perQueue.count } }

    /// Tasks waiting in the limiter's queues.
    var limiterWaiting: Int { limiter.waiting }
}
