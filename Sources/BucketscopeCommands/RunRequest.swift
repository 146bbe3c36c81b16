import Dashboard
import Fleet
import Foundation
import TokenBucket

/// `bucketscope run`'s checked arguments, and running them.
struct RunRequest {
    var options: FleetOptions
    /// nil: the scenario's own duration.
    var duration: Nanoseconds?
    var format: ReportFormat

    /// The scenario with the flags applied, checked against the resource limits for this run.
    func scenario(live: Bool) throws -> (Scenario, Nanoseconds) {
        let scenario = try Scenario.resolve(options)
        let length = duration ?? scenario.duration
        try scenario.checkTotals(live: live)
        // A live run is bounded by real time itself; a simulated one by its request count.
        if !live { try scenario.checkBudget(duration: length) }
        return (scenario, length)
    }

    /// Runs the simulation and renders the report.
    func execute() throws -> String {
        let (scenario, length) = try scenario(live: false)
        let clock = ContinuousClock()
        let start = clock.now
        let sim = try Simulation(scenario: scenario, seed: options.seed)
        try sim.run(until: length, eventBudget: Simulation.defaultEventBudget)
        let wall = start.duration(to: clock.now)
        return render(sim.report(wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18),
                      snapshot: sim.snapshot)
    }

    /// The report in the requested format; `snapshot` is read only for `svg`, whose chart is
    /// drawn from the fleet's time series (the last minute of the run).
    func render(_ report: FleetReport, snapshot: () -> FleetSnapshot) -> String {
        switch format {
        case .json: return report.json() + "\n"
        case .table: return report.table()
        case .csv: return report.csv()
        case .svg: return ReportChart.render(snapshot(), theme: ThemeCatalog.fallback)
        }
    }
}
