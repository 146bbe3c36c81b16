import Fleet
import Logging
import NIOHTTP1
import Synchronization
import TokenBucket

/// The tuning rule on a running gateway (`[tuning]` in the config): fed every upstream answer
/// (``GatewayMetrics`` passes them on), it cuts the request refill of every bucket set when the
/// upstream's 429 rate over a window exceeds the threshold, and raises it back after windows
/// without 429s, never above the configured refill. The rule is the simulator's
/// (``TuningSpec/move(factor:requests:limited:)``); the windows are ``TuningWindow``'s, on the
/// real clock.
///
/// ```swift
/// let tuner = RefillTuner(TuningSpec(window: 10_000_000_000), limits: limits)
/// tuner.answered(status: 429, retryAfter: .seconds(2))   // from the upstream's answers
/// tuner.factor   // 0.8 once a window with 429s above 1 % has ended
/// ```
public final class RefillTuner: Sendable {
    public let spec: TuningSpec
    let limits: GatewayLimits
    /// Time since the tuner was made, on its clock.
    private let elapsed: @Sendable () -> Duration
    /// Each move is logged here (one line, as `--headless` logs each 429).
    let logger: Logger?

    private struct State: Sendable {
        var window: TuningWindow
        var last: TuningNote?
    }
    private let state: Mutex<State>

    /// The last move, for the dashboard's change line and the log.
    public struct TuningNote: Sendable, Equatable {
        /// When, ns since the tuner started.
        public var at: Nanoseconds
        public var before: Double
        public var move: TuningMove
        public var summary: String {
            "tuning: \(move.reason): refill factor \(RefillTuner.short(before)) → \(RefillTuner.short(move.factor))"
        }
    }

    /// A tuner of `limits`, its windows on `clock` (a test passes a `ManualClock`).
    public init<C: Clock>(_ spec: TuningSpec, limits: GatewayLimits, clock: C, logger: Logger? = nil) where C.Duration == Duration {
        self.spec = spec
        self.limits = limits
        self.logger = logger
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        state = Mutex(State(window: TuningWindow(spec: spec)))
    }

    /// A tuner of `limits` on the real clock.
    public convenience init(_ spec: TuningSpec, limits: GatewayLimits, logger: Logger? = nil) {
        self.init(spec, limits: limits, clock: ContinuousClock(), logger: logger)
    }

    /// Nanoseconds since the tuner started.
    var now: Nanoseconds {
        let d = elapsed()
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    /// The factor the configured request refills are multiplied by now (1: untouched).
    public var factor: Double { state.withLock { $0.window.factor } }
    /// Moves made so far.
    public var moves: Int { state.withLock { $0.window.moves } }
    /// The last move, nil before the first.
    public var lastMove: TuningNote? { state.withLock { $0.last } }

    /// One upstream answer: its status and, on a 429, its `Retry-After`.
    public func answered(status: Int, retryAfter: Duration?) {
        let t = now
        let ns = retryAfter.map { $0.components.seconds * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }
        step { $0.answered(status: status, retryAfter: ns, at: t) }
    }

    /// Judges a window that has ended without an answer since (the dashboard calls it each
    /// frame so the factor it shows is current).
    public func tick() {
        let t = now
        step { $0.close(at: t) }
    }

    /// Runs `body` with the current factor while no move can happen: the dashboard's refill
    /// edits set configured × factor, and a move meanwhile would scale the old value.
    public func withFactor<T>(_ body: (Double) throws -> T) rethrows -> T {
        try state.withLock { s in try body(s.window.factor) }
    }

    /// Runs the window and applies a move to the limits, under the lock (moves and edits never
    /// interleave).
    private func step(_ change: (inout TuningWindow) -> TuningMove?) {
        let t = now
        let note = state.withLock { s -> TuningNote? in
            let before = s.window.factor
            guard let move = change(&s.window) else { return nil }
            // A refill the library cannot hold (far below 1e-9/s after many cuts): stay put.
            do { try limits.scaleRequestRefill(by: move.factor / before) } catch {
                s.window.undo(to: before)
                return nil
            }
            s.last = TuningNote(at: t, before: before, move: move)
            return s.last
        }
        if let note { logger?.info("\(note.summary)") }
    }

    /// The upstream's `Retry-After` of an answer: `retry-after-ms` (OpenAI's), else
    /// `retry-after` in seconds (the HTTP-date form is not used by LLM providers; ignored).
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let ms = headers.first(name: "retry-after-ms").flatMap(Double.init), ms.isFinite, ms >= 0 {
            return .milliseconds(Int64(Swift.min(ms, 1e12)))
        }
        if let s = headers.first(name: "retry-after").flatMap(Double.init), s.isFinite, s >= 0 {
            return .seconds(Swift.min(s, 1e9))
        }
        return nil
    }

    static func short(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
