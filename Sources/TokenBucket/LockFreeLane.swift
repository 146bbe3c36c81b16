import CFastClock

/// The lock-free path of ``Bucket/tryAcquire(_:)``: while nobody waits, the bucket's whole
/// state is one scaled number (GCRA's theoretical full time), and a `tryAcquire` is a clock
/// read and one 16-byte compare-and-swap on it, with no lock.
///
/// ## The idea
/// The bucket's exact state (``BucketState``, behind the waiting engine's lock) hands its
/// scaled full time to the lane when nothing is queued, and takes it back before anything
/// else touches the state. The word holds:
/// - `lo`: the full time as an offset from the scaled base instant `base × p` (`p`, `q`,
///   `burst`, `base`, `capacityUnits` are published with it, below), always ≥ 0;
/// - `hi`: a generation, odd while the lane is closed (the state is the lock's), even while it
///   is open. Every close and every open bumps it, so a compare-and-swap prepared against one
///   opening can never succeed against another (64 bits never wrap).
///
/// Taking `c` nano-tokens at `t` is GCRA itself (see ``GCRA/tryAcquire(_:units:at:)``):
/// `new = max(lo, (t − base) × p) + c × q`, admitted iff `new − burst ≤ (t − base) × p`,
/// committed by swapping `lo` for `new` if the word is still what was read.
///
/// ## Why it is exact
/// - **Same arithmetic**: integers only, the offset is the state minus a constant; whenever
///   a number would leave its headroom (an offset past 2^61, an overflowing product) the lane
///   answers "take the lock" and the locked path re-bases it.
/// - **FIFO**: the lane is open only while no task waits and no reservation is outstanding.
///   Every operation that could queue or re-plan (`acquire`, `refund`, `charge`,
///   `reconfigure`, read-outs) closes it first, under the lock, by a compare-and-swap that
///   bumps the generation: a `tryAcquire` that swapped before the close is ordered before
///   that operation; one after it fails its swap and takes the locked path, which sees the
///   waiters. A `tryAcquire` never jumps ahead of a waiter.
/// - **Reconfiguration** closes the lane; it reopens with the new parameters and a new
///   generation, so no swap computed with the old ones can succeed.
/// - **Time**: the lane decides at the caller's own clock reading. Another caller's later
///   reading may already have moved the state; then this one's earlier reading only sees
///   fewer tokens (never more), so the lane may refuse where the lock, which clamps time to
///   the latest seen, would have admitted a few nanoseconds later, but never admits more
///   than the bucket holds.
/// - A refusal is read, not swapped: it is valid when the generation read again after the
///   offset is unchanged (the offset only grows within one opening, so it was the state at
///   the instant it was read).
///
/// Only on x86-64 with `cmpxchg16b` (``isAvailable``); elsewhere ``Bucket`` always locks.
/// The word and the parameters live in C memory (`cfc_lane`, one cache line) owned by the
/// ``WaitEngine``.
@usableFromInline
struct LockFreeLane: @unchecked Sendable {
    // @unchecked: the memory behind `lane` is only touched through the atomic C functions.
    // A plain pointer, not a class: reading it costs no reference counting (a retain and a
    // release are two more locked instructions, as much as the compare-and-swap itself).
    @usableFromInline let lane: UnsafeMutablePointer<cfc_lane>

    /// Offsets (and hence every sum the lane forms) stay below this; beyond it the locked
    /// path takes over and re-bases.
    @usableFromInline static var headroom: Int64 { 1 << 61 }

    /// Whether this CPU can run the lane.
    static let isAvailable = cfc_pair_cas_usable() != 0

    /// A closed lane (generation 1); its owner calls ``deallocate()``.
    init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<cfc_lane>.stride, alignment: 64)
        lane = raw.bindMemory(to: cfc_lane.self, capacity: 1)
        lane.initialize(to: cfc_lane(word: cfc_pair(lo: 0, hi: 1),
                                     params: cfc_lane_params(base: 0, p: 1, q: 1, burst: 0, capacity_units: 0)))
    }

    func deallocate() { lane.deallocate() }

    @usableFromInline var cell: UnsafeMutablePointer<cfc_pair> {
        UnsafeMutableRawPointer(lane).assumingMemoryBound(to: cfc_pair.self)   // `word` is the first field
    }

    /// Whether the lane holds the state now (for tests and read-outs; may change at once).
    var isOpen: Bool { cfc_pair_load_hi(cell) & 1 == 0 }

    // MARK: The lock-free path

    /// Takes `c` nano-tokens at `t` if the bucket has them: `true` taken, `false` refused,
    /// `nil` when the lane cannot decide (closed: someone waits or holds the lock; a cost
    /// above capacity; a number out of headroom): then take the lock.
    @inlinable
    func tryAcquire(units c: Int64, at t: Nanoseconds) -> Bool? {
        let cell = self.cell
        var word = cfc_pair_load(cell)
        while true {
            guard word.hi & 1 == 0 else { return nil }
            let params = cfc_lane_load_params(lane)
            guard c <= params.capacity_units else { return nil }
            let (dt, o1) = t.subtractingReportingOverflow(params.base)
            let (ts, o2) = dt.multipliedReportingOverflow(by: params.p)
            let (cq, o3) = c.multipliedReportingOverflow(by: params.q)
            let start = Swift.max(Int64(bitPattern: word.lo), ts)
            guard !o1, !o2, !o3, start < LockFreeLane.headroom, cq < LockFreeLane.headroom else { return nil }
            let new = start &+ cq
            if new &- params.burst > ts {
                // Refused: valid if this opening is still current (then `lo` was its state).
                if cfc_pair_load_hi(cell) == word.hi { return false }
                word = cfc_pair_load(cell)
                continue
            }
            var seen = cfc_pair()
            if cfc_pair_cas(cell, word, cfc_pair(lo: UInt64(bitPattern: new), hi: word.hi), &seen) != 0 { return true }
            word = seen
        }
    }

    // MARK: Handing the state over (under the bucket's lock)

    /// Closes the lane; returns the scaled full time it held, or nil if it was closed already
    /// (then the locked state is current).
    @usableFromInline func close() -> Int128? {
        var word = cfc_pair_load(cell)
        while true {
            guard word.hi & 1 == 0 else { return nil }
            var seen = cfc_pair()
            if cfc_pair_cas(cell, word, cfc_pair(lo: word.lo, hi: word.hi &+ 1), &seen) != 0 {
                let params = cfc_lane_load_params(lane)
                return Int128(params.base) * Int128(params.p) + Int128(Int64(bitPattern: word.lo))
            }
            word = seen
        }
    }

    /// Opens the closed lane on `seed`. Only the lock holder opens or closes, so nothing else
    /// changes a closed word.
    @usableFromInline func open(_ seed: LaneSeed) {
        cfc_lane_store_params(lane, cfc_lane_params(base: seed.base, p: seed.p, q: seed.q, burst: seed.burst,
                                                    capacity_units: seed.capacityUnits))
        var word = cfc_pair_load(cell)
        while true {
            precondition(word.hi & 1 == 1, "the lane is opened only while closed")
            var seen = cfc_pair()
            if cfc_pair_cas(cell, word, cfc_pair(lo: UInt64(bitPattern: seed.offset), hi: word.hi &+ 1), &seen) != 0 { return }
            word = seen   // a torn first read; the word itself does not change while closed
        }
    }
}

/// What a ledger hands the lane when it opens: the scaled full time as an offset from
/// `base × p`, and the GCRA parameters, each within the lane's headroom.
@usableFromInline
struct LaneSeed: Sendable {
    let base: Nanoseconds
    let p: Int64
    let q: Int64
    let burst: Int64
    let capacityUnits: Int64
    let offset: Int64
}

extension BucketState {
    /// The lane's seed when it may open: nothing promised after the latest time seen (no
    /// reservation outstanding) and every number within headroom; nil otherwise.
    ///
    /// The full time is raised to `lastSeen` first (a full bucket stays full: the same state
    /// for every time from `lastSeen` on), so the offset starts small and ≥ 0.
    @usableFromInline func laneSeed() -> LaneSeed? {
        guard lastSeen > .min, lastAdmit <= lastSeen else { return nil }
        let scaledBase = gcra.scaled(lastSeen)
        let offset = Swift.max(tat, scaledBase) - scaledBase
        guard offset < Int128(LockFreeLane.headroom), gcra.burst < Int128(LockFreeLane.headroom) else { return nil }
        return LaneSeed(base: lastSeen, p: gcra.p, q: gcra.q, burst: Int64(gcra.burst),
                        capacityUnits: gcra.capacityUnits, offset: Int64(offset))
    }

    /// Takes the state back from a closed lane. Its admissions are already in `tat`; they
    /// need no other bookkeeping: the lane was open only with no reservation outstanding, so
    /// no rollback can be affected, and each was admitted at its caller's time, not after
    /// the FIFO floor.
    @usableFromInline mutating func absorbLane(_ laneTat: Int128) {
        tat = laneTat
    }
}
