/// The bucket arithmetic, once: the generic cell rate algorithm on exact integers.
///
/// Both ``BucketState`` (one bucket, with its FIFO and cancellation bookkeeping) and
/// ``KeyedBucketState`` (16 bytes of state per key, configurations shared) call these functions,
/// so the two can never disagree about when a request is admitted.
///
/// The state of one bucket is a single number, `tat × p`: the theoretical full time `tat`
/// (when the bucket would be full if nothing more were taken) scaled by the refill numerator.
/// With the refill as `p/q` tokens per second and amounts in nano-tokens, one nano-token takes
/// exactly `q/p` ns, so taking `c` nano-tokens adds `c × q` to the scaled state: an integer,
/// no rounding. Time `t` (ns) in the same scale is `t × p`.
///
/// ```swift
/// let g = GCRA(try BucketConfiguration(capacity: 10, refillPerSecond: 2))
/// var tat = GCRA.alwaysFull
/// g.tryAcquire(&tat, units: 4 * TokenUnits.perToken, at: 0)   // true
/// ```
///
/// - Complexity: every function is O(1) with no allocation.
@usableFromInline
struct GCRA: Hashable, Sendable {
    /// Refill = p/q nano-tokens per nanosecond (equal to p/q tokens per second).
    @usableFromInline let p: Int64
    @usableFromInline let q: Int64
    @usableFromInline let capacityUnits: Int64
    /// capacity × q: the burst tolerance in scaled time.
    @usableFromInline let burst: Int128

    /// A scaled state that is full at every representable time, under every configuration
    /// (`p` is below `Int64.max`, so `Int64.min × Int64.max ≤ t × p` for every `t`).
    @usableFromInline static let alwaysFull: Int128 = Int128(Int64.min) * Int128(Int64.max)

    @usableFromInline
    init(_ configuration: BucketConfiguration) {
        p = configuration.refill.numerator
        q = configuration.refill.denominator
        capacityUnits = TokenUnits.units(configuration.capacity)
        burst = Int128(capacityUnits) * Int128(q)
    }

    /// The capacity in tokens, for error messages.
    @usableFromInline var capacity: Double { TokenUnits.tokens(capacityUnits) }

    @inlinable @inline(__always)
    func scaled(_ t: Nanoseconds) -> Int128 { Int128(t) &* Int128(p) }

    /// Takes `c` nano-tokens at `t` if they are there; otherwise leaves `tat` alone.
    @inlinable @inline(__always)
    func tryAcquire(_ tat: inout Int128, units c: Int64, at t: Nanoseconds) -> Bool {
        let ts = scaled(t)
        let newTat = Swift.max(tat, ts) &+ Int128(c) &* Int128(q)
        guard newTat &- burst <= ts else { return false }
        tat = newTat
        return true
    }

    /// Whether `c` nano-tokens could be taken at `t`, without taking them.
    @inlinable @inline(__always)
    func canAcquire(_ tat: Int128, units c: Int64, at t: Nanoseconds) -> Bool {
        let ts = scaled(t)
        return Swift.max(tat, ts) &+ Int128(c) &* Int128(q) &- burst <= ts
    }

    /// Commits `c` nano-tokens for a request made at `t` that may not act before `notBefore`,
    /// and returns its admission instant (rounded up to the ns). A request asked for at `t` but
    /// held back until `notBefore` is accounted as made at `notBefore`, so the bucket sees the
    /// tokens leave when they really do.
    @inlinable @inline(__always)
    func reserve(_ tat: inout Int128, units c: Int64, at t: Nanoseconds, notBefore: Nanoseconds = .min) -> Nanoseconds {
        let start = Swift.max(t, notBefore)
        let ts = scaled(start)
        tat = Swift.max(tat, ts) &+ Int128(c) &* Int128(q)
        return Swift.max(GCRA.ceilDiv(tat &- burst, Int128(p)), start)
    }

    /// The admission instant of a reservation of `c` at `t`, without making it.
    @inlinable
    func admission(_ tat: Int128, units c: Int64, at t: Nanoseconds, notBefore: Nanoseconds = .min) -> Nanoseconds {
        var copy = tat
        return reserve(&copy, units: c, at: t, notBefore: notBefore)
    }

    /// Level at `t` in nano-tokens × q; negative while reservations are promised ahead of refill.
    @inlinable
    func scaledLevel(_ tat: Int128, at t: Nanoseconds) -> Int128 {
        let ts = scaled(t)
        return burst - (Swift.max(tat, ts) - ts)
    }

    /// Level at `t` in tokens.
    @inlinable
    func balance(_ tat: Int128, at t: Nanoseconds) -> Double {
        GCRA.double(scaledLevel(tat, at: t)) / Double(q) / 1e9
    }

    /// `Double(v)`, correctly rounded as that is, without the standard library's generic
    /// conversion from `Int128` (several times slower; this runs for every level read): the
    /// top 64 significant bits, with a sticky bit for any bit below them, rounded by the
    /// hardware's 64-bit conversion, then scaled by an exact power of two.
    @inlinable
    static func double(_ v: Int128) -> Double {
        if let small = Int64(exactly: v) { return Double(small) }
        let magnitude = v.magnitude
        let zeros = magnitude.leadingZeroBitCount            // < 64 here: |v| >= 2^63
        let normalized = magnitude << zeros                  // top bit at 127
        var top = UInt64(truncatingIfNeeded: normalized >> 64)
        if UInt64(truncatingIfNeeded: normalized) != 0 { top |= 1 }
        let d = Double(top) * Double(sign: .plus, exponent: 64 - zeros, significand: 1)
        return v < 0 ? -d : d
    }

    /// Adds `u` nano-tokens back at `t`, never above full.
    @inlinable
    func refund(_ tat: inout Int128, units u: Int64, at t: Nanoseconds) {
        tat = Swift.max(tat - Int128(u) * Int128(q), scaled(t))
    }

    /// Takes `u` nano-tokens at `t` even into debt.
    @inlinable
    func charge(_ tat: inout Int128, units u: Int64, at t: Nanoseconds) {
        tat = Swift.max(tat, scaled(t)) + Int128(u) * Int128(q)
    }

    /// Whether the bucket is full at `t` (no tokens missing, nothing promised ahead).
    @inlinable
    func isFull(_ tat: Int128, at t: Nanoseconds) -> Bool { tat <= scaled(t) }

    /// When the bucket is full again if nothing more is taken.
    @inlinable
    func fullAt(_ tat: Int128) -> Nanoseconds { GCRA.ceilDiv(tat, Int128(p)) }

    /// When the latest reservation made so far is admitted: the instant the state says the
    /// bucket is emptied by it.
    @inlinable
    func latestAdmission(_ tat: Int128) -> Nanoseconds { GCRA.ceilDiv(tat &- burst, Int128(p)) }

    /// The state under `new` that keeps the level at `t` (capped at the new capacity, rounded
    /// toward fewer tokens by less than a nano-token). Pass for `t` the latest promised
    /// admission when it is later than now: promises keep their instants and the new
    /// configuration takes over from there (see ``BucketState/reconfigure(_:at:)``).
    @inlinable
    func converted(_ tat: Int128, at t: Nanoseconds, to new: GCRA) -> Int128 {
        let level = scaledLevel(tat, at: t)
        let scaledLevel = Swift.min(GCRA.floorDiv(level * Int128(new.q), Int128(q)), new.burst)
        return new.burst + new.scaled(t) - scaledLevel
    }

    /// ``converted(_:at:to:)`` for a state that stores no FIFO floor (keyed buckets): the
    /// latest promise is recovered from `tat` itself, and the new configuration takes over
    /// there, so nothing new is admitted before a reservation already handed out.
    @inlinable
    func convertedKeepingOrder(_ tat: Int128, at t: Nanoseconds, to new: GCRA) -> Int128 {
        converted(tat, at: Swift.max(t, latestAdmission(tat)), to: new)
    }

    // MARK: Integer division with explicit rounding

    @inlinable
    static func ceilDiv(_ a: Int128, _ b: Int128) -> Int64 {
        let (qt, r) = a.quotientAndRemainder(dividingBy: b)
        let v = (r > 0) ? qt + 1 : qt
        return Int64(clamping: v)
    }

    @inlinable
    static func floorDiv(_ a: Int128, _ b: Int128) -> Int128 {
        let (qt, r) = a.quotientAndRemainder(dividingBy: b)
        return (r < 0) ? qt - 1 : qt
    }
}
