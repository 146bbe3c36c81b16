/// One move of the tuning rule: the refill factor it sets and why.
public struct TuningMove: Sendable, Equatable {
    /// The factor every client bucket's configured refill is multiplied by from now on.
    public var factor: Double
    /// True when the rule cut the refill (429s), false when it raised it (a window without).
    public var isCut: Bool
    /// Why, for the dashboard's change note: `429 rate 40% > 1%` or `no 429s`.
    public var reason: String
}

extension TuningSpec {
    /// The rule, decided at the end of one window in which the provider answered `requests`
    /// requests, `limited` of them with 429, while the refill factor was `factor`: above the
    /// threshold the factor is cut by `cut` (× 0.8 by default); after a window with requests and
    /// no 429 it is raised by `raise` (× 1.05), never above 1 (the configured refill). nil: it
    /// stays (no requests, 429s at or below the threshold, or nothing to raise).
    ///
    /// The one implementation of the rule: the simulator's fleet core applies it at each window's
    /// end on virtual time, `bucketscope serve` to the upstream's real answers.
    ///
    /// ```swift
    /// TuningSpec().move(factor: 1, requests: 10, limited: 4)?.factor   // 0.8
    /// TuningSpec().move(factor: 0.8, requests: 10, limited: 0)?.factor // 0.84
    /// ```
    public func move(factor: Double, requests: Int, limited: Int) -> TuningMove? {
        guard requests > 0 else { return nil }
        let rate = Double(limited) / Double(requests)
        if rate > threshold {
            return TuningMove(factor: factor * (1 - cut), isCut: true,
                              reason: "429 rate \(fmt(rate * 100))% > \(fmt(threshold * 100))%")
        }
        if limited == 0, let up = raise, factor < 1 {
            return TuningMove(factor: Swift.min(1, factor * (1 + up)), isCut: false, reason: "no 429s")
        }
        return nil
    }
}
