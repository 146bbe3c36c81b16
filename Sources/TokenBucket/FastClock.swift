import CFastClock
import Synchronization

/// A monotonic clock that reads the CPU's time-stamp counter (about 10 ns a read, against
/// about 30 ns for `ContinuousClock.now`), calibrated to the `ContinuousClock` timeline; where
/// the counter cannot be trusted, it reads `ContinuousClock` itself.
///
/// ```swift
/// let clock = FastClock()
/// let t0 = clock.now
/// FastClock.isTSCBacked            // true on a CPU with an invariant TSC the kernel uses
/// ```
///
/// It is the time source behind ``Bucket``, ``KeyedBuckets`` and ``LLMLimiter`` on the
/// `ContinuousClock` (their default): their readings come from here and their timers sleep
/// on `ContinuousClock`. Tests pass a ``ManualClock`` instead, as before.
///
/// ## Guarantees
/// - **When it is used**: only when the CPU reports an invariant TSC (constant rate whatever
///   the power state; CPUID 0x80000007) and the Linux kernel uses the TSC as its own
///   clocksource, which it does only after checking that the counters of all CPUs are
///   synchronized (it demotes the TSC at runtime if they drift apart). Otherwise every read
///   is `ContinuousClock.now` (``isTSCBacked`` is false).
/// - **Monotonic across threads**: a reading is `base + ((tsc − baseTSC) × mult) >> 40` with
///   integer arithmetic, non-decreasing in the counter, and the kernel-verified counters agree
///   across CPUs. Recalibration never steps backwards: it starts the new parameters from the
///   value the old ones give at that instant.
/// - **Drift bound**: the first calibration times 1 ms of counter ticks against
///   `ContinuousClock` (about 50 ppm uncertainty); recalibration then runs at 10 ms, 20 ms,
///   ... doubling up to once a second, each time measuring the true rate over the whole time
///   since the start and slewing toward `ContinuousClock` (the error left at each
///   recalibration is corrected over the next interval, at most 1,000 ppm, so a reading never
///   jumps). In steady state a reading is within a few microseconds of `ContinuousClock`,
///   including while NTP slews the OS clock. A forward jump of the OS clock by more than
///   10 ms is followed at once (time may jump forward, never back).
/// - **Cost**: one `rdtsc`, four loads of the calibration, a 64 × 64-bit multiply; once a
///   second one reader also takes a few `ContinuousClock` readings to recalibrate.
public struct FastClock: Clock {
    /// A reading: nanoseconds on the `ContinuousClock` timeline since the first use of
    /// `FastClock` in this process.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        public var nanoseconds: Int64

        public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

        public func advanced(by duration: Duration) -> Instant {
            Instant(nanoseconds: nanoseconds &+ TimeSource.nanoseconds(duration))
        }
        public func duration(to other: Instant) -> Duration { .nanoseconds(other.nanoseconds &- nanoseconds) }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
        public var description: String { "FastClock.Instant(\(nanoseconds) ns)" }
    }

    public init() {}

    public var now: Instant { Instant(nanoseconds: FastTimeBase.shared.now()) }

    public var minimumResolution: Duration { .nanoseconds(1) }

    /// Sleeps on `ContinuousClock` for the time left until `deadline` as this clock reads it.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await FastTimeBase.shared.sleep(until: deadline.nanoseconds, tolerance: tolerance)
    }

    /// Whether readings come from the time-stamp counter (false: from `ContinuousClock`).
    public static var isTSCBacked: Bool { FastTimeBase.shared.usable }

    /// The current reading in nanoseconds, without building an ``Instant``.
    @inlinable
    public static func nanoseconds() -> Int64 { FastTimeBase.shared.now() }
}

/// The conversion from counter ticks to nanoseconds: `baseNs + ((tsc − baseTSC) × mult) >> 40`,
/// integer arithmetic only, so converting never rounds twice and never drifts: a reading
/// depends only on the counter and these three numbers.
@usableFromInline
struct TSCCalibration: Sendable, Equatable {
    @usableFromInline var baseTSC: UInt64
    @usableFromInline var baseNs: Int64
    /// Nanoseconds per tick × 2^40 (a 1 GHz counter has 2^40; faster counters less). 40 bits
    /// of fraction: a 3 GHz counter's rate is held to 2^-40 (1 ppb), under 5 ns an
    /// hour, and recalibration corrects the rest.
    @usableFromInline var mult: UInt64

    /// The fixed-point shift of ``mult``.
    @usableFromInline static var shift: Int { 40 }

    @usableFromInline
    init(baseTSC: UInt64, baseNs: Int64, mult: UInt64) {
        self.baseTSC = baseTSC
        self.baseNs = baseNs
        self.mult = mult
    }

    /// The reading at counter value `tsc` (one not before `baseTSC` reads as `baseNs`).
    @inlinable
    func nanoseconds(at tsc: UInt64) -> Int64 {
        guard tsc > baseTSC else { return baseNs }
        let (high, low) = (tsc &- baseTSC).multipliedFullWidth(by: mult)
        // (high:low) >> 40; below 2^63 ns (292 years) the result fits.
        return baseNs &+ Int64(truncatingIfNeeded: (high << 24) | (low >> 40))
    }

    /// Nanoseconds per tick × 2^40 for `ns` nanoseconds measured over `ticks` ticks.
    static func multiplier(ns: Int64, ticks: UInt64) -> UInt64 {
        UInt64(clamping: (UInt128(UInt64(Swift.max(0, ns))) << 40) / UInt128(Swift.max(1, ticks)))
    }

    /// New parameters from `tsc` on, given that the OS clock read `osNs` at `tsc` and that
    /// the counter's true rate is `trueMult`: continuous at `tsc` (no step back), aiming to
    /// agree with the OS clock again `interval` ticks later, slewing at most 1,000 ppm. An OS
    /// clock more than 10 ms ahead is followed at once.
    func recalibrated(tsc: UInt64, osNs: Int64, trueMult: UInt64, interval: UInt64) -> TSCCalibration {
        let current = nanoseconds(at: tsc)
        if osNs > current &+ 10_000_000 { return TSCCalibration(baseTSC: tsc, baseNs: osNs, mult: trueMult) }
        let span = TSCCalibration(baseTSC: 0, baseNs: 0, mult: trueMult).nanoseconds(at: interval)
        let wanted = osNs &+ span &- current                       // ns to cover over `interval` ticks
        let limit = Int64(truncatingIfNeeded: span / 1_000)
        let slewed = Swift.min(Swift.max(wanted, span - limit), span + limit)
        return TSCCalibration(baseTSC: tsc, baseNs: current, mult: TSCCalibration.multiplier(ns: slewed, ticks: interval))
    }
}

/// The process-wide calibration of ``FastClock``, published with a sequence lock: a reader
/// retries when a recalibration wrote meanwhile (four stores, once a second).
@usableFromInline
final class FastTimeBase: Sendable {
    @usableFromInline static let shared = FastTimeBase()

    @usableFromInline let usable: Bool
    /// Odd while a recalibration is storing new parameters.
    @usableFromInline let sequence = Atomic<UInt64>(0)
    @usableFromInline let baseTSC = Atomic<UInt64>(0)
    @usableFromInline let baseNs = Atomic<Int64>(0)
    @usableFromInline let mult = Atomic<UInt64>(0)
    /// The counter value from which the next reader recalibrates.
    @usableFromInline let recalibrateAt = Atomic<UInt64>(.max)
    /// The ContinuousClock instant that reading 0 stands for.
    let epoch: ContinuousClock.Instant
    /// The first calibration pair: the true rate is measured from here.
    let anchorTSC: UInt64
    let anchorNs: Int64

    static let longestInterval: Int64 = 1_000_000_000

    private init() {
        epoch = ContinuousClock.now
        usable = cfc_tsc_usable() != 0
        guard usable else {
            anchorTSC = 0
            anchorNs = 0
            return
        }
        let start = FastTimeBase.pair(epoch)
        var end = start
        while end.ns - start.ns < 1_000_000 { end = FastTimeBase.pair(epoch) }
        anchorTSC = start.tsc
        anchorNs = start.ns
        let m = TSCCalibration.multiplier(ns: end.ns - start.ns, ticks: end.tsc - start.tsc)
        baseTSC.store(end.tsc, ordering: .relaxed)
        baseNs.store(end.ns, ordering: .relaxed)
        mult.store(m, ordering: .relaxed)
        recalibrateAt.store(end.tsc &+ FastTimeBase.ticks(10_000_000, mult: m), ordering: .relaxed)
        sequence.store(2, ordering: .releasing)
    }

    /// The reading now, in nanoseconds since `epoch`.
    @inlinable
    func now() -> Int64 {
        usable ? counterNow() : slowNow()
    }

    /// ``now()`` for a caller that checked ``usable``.
    @inlinable
    func counterNow() -> Int64 {
        while true {
            // The counter first: the loads below overlap with its latency. A recalibration
            // published after it makes the reading clamp to the new base, which continues the
            // old parameters from a later counter value: still never backwards.
            let tsc = cfc_rdtsc()
            let s = sequence.load(ordering: .acquiring)
            let c = TSCCalibration(baseTSC: baseTSC.load(ordering: .acquiring), baseNs: baseNs.load(ordering: .acquiring),
                                   mult: mult.load(ordering: .acquiring))
            let due = recalibrateAt.load(ordering: .acquiring)
            guard s & 1 == 0, sequence.load(ordering: .acquiring) == s else { continue }
            if tsc >= due {
                recalibrate(s, c, due)
                continue
            }
            return c.nanoseconds(at: tsc)
        }
    }

    @usableFromInline
    func slowNow() -> Int64 { TimeSource.nanoseconds(epoch.duration(to: .now)) }

    /// Recalibrates against `ContinuousClock`, unless another thread already is.
    @usableFromInline
    func recalibrate(_ s: UInt64, _ c: TSCCalibration, _ due: UInt64) {
        // Claim the next recalibration first, so that only one reader does the slow part.
        guard recalibrateAt.compareExchange(expected: due, desired: .max, ordering: .acquiringAndReleasing).exchanged else { return }
        let p = FastTimeBase.pair(epoch)
        let trueMult = TSCCalibration.multiplier(ns: p.ns - anchorNs, ticks: p.tsc &- anchorTSC)
        // Intervals double from 10 ms up to 1 s: early readings converge fast, later ones cost nothing.
        let sinceAnchor = p.ns - anchorNs
        let interval = FastTimeBase.ticks(Swift.min(FastTimeBase.longestInterval, Swift.max(10_000_000, sinceAnchor)), mult: trueMult)
        let next = c.recalibrated(tsc: p.tsc, osNs: p.ns, trueMult: trueMult, interval: interval)
        guard sequence.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged else {
            recalibrateAt.store(due, ordering: .releasing)
            return
        }
        baseTSC.store(next.baseTSC, ordering: .releasing)
        baseNs.store(next.baseNs, ordering: .releasing)
        mult.store(next.mult, ordering: .releasing)
        recalibrateAt.store(p.tsc &+ interval, ordering: .releasing)
        sequence.store(s + 2, ordering: .releasing)
    }

    /// Sleeps on `ContinuousClock` for the time left until reading `deadline`.
    func sleep(until deadline: Int64, tolerance: Duration?) async throws {
        let left = deadline &- now()
        try await ContinuousClock().sleep(until: .now.advanced(by: .nanoseconds(Swift.max(0, left))), tolerance: tolerance)
    }

    /// A counter value and the ContinuousClock reading taken together (the tightest of a few
    /// tries; the counter value is the middle of the window around the clock read).
    static func pair(_ epoch: ContinuousClock.Instant) -> (tsc: UInt64, ns: Int64) {
        var best: (tsc: UInt64, ns: Int64, window: UInt64) = (0, 0, .max)
        for _ in 0..<5 {
            let a = cfc_rdtsc()
            let ns = TimeSource.nanoseconds(epoch.duration(to: .now))
            let b = cfc_rdtsc()
            if b &- a < best.window { best = (a &+ (b &- a) / 2, ns, b &- a) }
        }
        return (best.tsc, best.ns)
    }

    /// How many ticks `ns` nanoseconds are at `mult`.
    static func ticks(_ ns: Int64, mult: UInt64) -> UInt64 {
        UInt64(clamping: (UInt128(UInt64(ns)) << 40) / UInt128(Swift.max(1, mult)))
    }
}
