/// Wait-time percentiles in milliseconds.
public struct WaitPercentiles: Sendable, Equatable, Codable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
    /// True when requests still waiting are counted with their wait so far: their final waits
    /// can only be longer, so each figure is "at least". False: admitted requests only, final.
    public var lowerBound: Bool

    public init(p50: Double = 0, p90: Double = 0, p99: Double = 0, max: Double = 0, lowerBound: Bool = false) {
        self.p50 = p50; self.p90 = p90; self.p99 = p99; self.max = max; self.lowerBound = lowerBound
    }

    /// p50, p90 and p99 rounded to the 3 significant digits the wait histograms hold (values
    /// within 1 %), never above `max`, which is exact and kept.
    public var honest: WaitPercentiles {
        let ceiling = NumberText.roundedToSignificant(max, 3, rule: .down)
        func round(_ x: Double) -> Double {
            let r = NumberText.roundedToSignificant(x, 3)
            return r > max ? ceiling : r
        }
        return WaitPercentiles(p50: round(p50), p90: round(p90), p99: round(p99), max: max, lowerBound: lowerBound)
    }
}
