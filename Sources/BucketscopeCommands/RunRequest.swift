import Fleet
import Foundation
import TokenBucket

/// `bucketscope run`'s arguments, checked: every bad value throws a message naming the option.
struct RunRequest {
    enum Format: String, CaseIterable { case table, json, csv }

    struct BadArgument: Error, CustomStringConvertible {
        var description: String
    }

    var options: FleetOptions
    /// nil: the scenario's own duration.
    var duration: Nanoseconds?
    var format: Format

    init(scenario: String, keying: String?, capacity: String?, refill: String?, duration: String?, seed: String,
         format: String, unrecognized: [String] = []) throws {
        if let first = unrecognized.first {
            throw BadArgument(description: first.hasPrefix("-") ? "unknown option \(first) (see bucketscope run --help)"
                              : "unexpected argument \"\(first)\" (see bucketscope run --help)")
        }
        var o = FleetOptions(scenario: scenario)
        if let k = keying {
            guard let v = Keying(rawValue: k) else {
                throw BadArgument(description: "--keying must be one of \(Keying.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(k)\"")
            }
            o.keying = v
        }
        o.capacity = try Self.positive(capacity, "--capacity")
        o.refill = try Self.positive(refill, "--refill")
        if let c = o.capacity { _ = try BucketConfiguration(capacity: c, refillPerSecond: 1) }
        if let r = o.refill { _ = try Rate(perSecond: r) }
        guard let s = UInt64(seed) else {
            throw BadArgument(description: "--seed must be a whole number from 0 to \(UInt64.max), got \"\(seed)\"")
        }
        o.seed = s
        if let d = duration {
            do {
                let ns = try DurationText.parse(d)
                guard ns > 0 else { throw BadArgument(description: "--duration must be > 0, got \"\(d)\"") }
                self.duration = ns
            } catch let e as FleetError {
                throw BadArgument(description: "--duration: \(e)")
            }
        }
        guard let f = Format(rawValue: format) else {
            throw BadArgument(description: "--format must be one of table, json, csv, got \"\(format)\"")
        }
        self.format = f
        options = o
    }

    static func positive(_ text: String?, _ name: String) throws -> Double? {
        guard let t = text else { return nil }
        guard let v = Double(t), v.isFinite else { throw BadArgument(description: "\(name) must be a number, got \"\(t)\"") }
        guard v > 0 else { throw BadArgument(description: "\(name) must be > 0, got \(t)") }
        return v
    }

    /// Runs the simulation and renders the report.
    func execute() throws -> String {
        let scenario = try Scenario.resolve(options)
        var o = options
        o.duration = duration ?? scenario.duration
        let clock = ContinuousClock()
        let start = clock.now
        let sim = try Simulation(scenario: scenario, seed: o.seed)
        try sim.run(until: o.duration, eventBudget: Simulation.defaultEventBudget)
        let wall = start.duration(to: clock.now)
        let report = sim.report(wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
        switch format {
        case .json: return report.json() + "\n"
        case .table: return report.table()
        case .csv: return report.csv()
        }
    }
}
