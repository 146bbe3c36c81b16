import Fleet
import TOMLKit

extension GatewayConfig {
    /// Fields of `[tuning]`: the simulator's `[tuning]` section (docs/scenario-format.md), the
    /// same names, defaults and ranges.
    static let tuningFields: Set<String> = ["enabled", "window", "threshold", "cut", "raise"]

    /// Reads `[tuning]`: the tuning rule on the upstream's answers (``RefillTuner``), and
    /// whether it is on (`enabled`, default true). Defaults: 10 s windows, cut 20 % above a 1 %
    /// 429 rate, raise 5 % after a window without 429s (`raise = 0`: never raise).
    static func tuning(_ t: ConfigTable) throws(GatewayConfigError) -> (spec: TuningSpec, enabled: Bool) {
        var spec = TuningSpec()
        func number(_ key: String, _ range: ValidRange) throws(GatewayConfigError) -> Double? {
            guard let v = t.table[key] else { return nil }
            let x: Double
            if let i = v.int { x = Double(i) } else if let d = v.double { x = d } else {
                throw t.error(key, "expected a number, got \(v)")
            }
            if let problem = range.violation(x) { throw t.error(key, problem) }
            return x
        }
        let enabled = try t.bool("enabled") ?? true
        if let w = try t.duration("window") {
            let ns = w.components.seconds * 1_000_000_000 + w.components.attoseconds / 1_000_000_000
            if let problem = InputLimits.tuningWindow.violation(ns) { throw t.error("window", problem) }
            spec.window = ns
        }
        spec.threshold = try number("threshold", InputLimits.threshold) ?? spec.threshold
        spec.cut = try number("cut", InputLimits.cut) ?? spec.cut
        if let up = try number("raise", InputLimits.raise) { spec.raise = up == 0 ? nil : up }
        for key in t.table.keys.sorted() where !tuningFields.contains(key) {
            throw t.error(key, "unknown field (expected one of \(tuningFields.sorted().joined(separator: ", ")))")
        }
        return (spec, enabled)
    }
}
