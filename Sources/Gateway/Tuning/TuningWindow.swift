import Fleet
import TokenBucket

/// The tuning rule's windows over a gateway's upstream answers, with time passed in
/// (nanoseconds since the gateway started): counts answers and 429s per window of `spec.window`
/// and, as each window ends, makes the fleet's move (``TuningSpec/move(factor:requests:limited:)``,
/// the simulator's rule) on its counts.
///
/// A window is judged at the first answer (or ``close(at:)``) after its end. That gives the
/// same moves as judging it on time: windows with no answers never move the factor, so nothing
/// is decided in a quiet spell that a late judgement could miss.
///
/// One addition for real providers: a raise waits until the upstream's latest `Retry-After` has
/// passed (a window in which the provider still asks for quiet is not "without 429s" to it).
///
/// ```swift
/// var w = TuningWindow(spec: TuningSpec(window: 1_000_000_000))   // 1 s windows
/// _ = w.answered(status: 429, retryAfter: nil, at: 100_000_000)
/// w.close(at: 1_000_000_000)?.factor   // 0.8: 100 % 429s > 1 %
/// ```
struct TuningWindow: Sendable, Equatable {
    let spec: TuningSpec
    /// The factor every request refill is multiplied by now (1: as configured).
    private(set) var factor = 1.0
    /// Moves made so far.
    private(set) var moves = 0
    /// End of the current window, ns.
    private(set) var windowEnd: Nanoseconds
    private var requests = 0
    private var limited = 0
    /// No raise before this instant: the upstream's latest `Retry-After` ends here, ns.
    private(set) var holdUntil: Nanoseconds = 0

    init(spec: TuningSpec, start: Nanoseconds = 0) {
        self.spec = spec
        windowEnd = start + spec.window
    }

    /// Counts one upstream answer at `t`, after judging the windows that ended by `t`. Returns
    /// the move that judgement made, if any.
    /// - Parameter retryAfter: the upstream's `Retry-After` on a 429, ns.
    mutating func answered(status: Int, retryAfter: Nanoseconds?, at t: Nanoseconds) -> TuningMove? {
        let move = close(at: t)
        requests += 1
        if status == 429 {
            limited += 1
            if let r = retryAfter { holdUntil = Swift.max(holdUntil, t + r) }
        }
        return move
    }

    /// Judges the window if it ended by `t` (later windows that also ended saw no answers and
    /// make no move), and starts the one holding `t`.
    mutating func close(at t: Nanoseconds) -> TuningMove? {
        guard t >= windowEnd else { return nil }
        let end = windowEnd
        var move = spec.move(factor: factor, requests: requests, limited: limited)
        if let m = move, !m.isCut, holdUntil > end { move = nil }
        requests = 0
        limited = 0
        windowEnd += ((t - windowEnd) / spec.window + 1) * spec.window
        if let m = move {
            factor = m.factor
            moves += 1
        }
        return move
    }

    /// Takes back the last move (its refill could not be applied): the factor is `before` again.
    mutating func undo(to before: Double) {
        factor = before
        moves -= 1
    }
}
