import ArgumentParser
import Fleet
import Foundation
import TokenBucket

/// `bucketscope run`: runs a scenario in the simulator (or live) without a terminal and prints
/// a report.
extension ReplicaSpec.Buckets: ExpressibleByArgument {}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario headless (simulated) and print a report.",
        discussion: """
            Durations accept 500ms, 90s, 10m, 1h, up to 8760h (a year). Bad values print one line and exit \
            with status 2. A simulated run is refused when it would simulate more than \
            \(NumberText.approximate(InputLimits.requestBudget)) requests (the message says what to lower); \
            ranges of every number are in docs/limits.md.
            Live runs stopped by Ctrl-C (SIGINT) or SIGTERM print the report so far, then exit with status \
            130 or 143.
            Examples:
              bucketscope run --scenario noisy-neighbor --keying shared --format json
              bucketscope run --scenario scenarios/burst.toml --duration 10m --seed 7
              bucketscope run --live --duration 10s     (real tasks on real buckets, 10 s of real time)
              bucketscope run --scenario replicas --replicas-buckets shared     (3 replicas on one store)
            """)

    @OptionGroup var fleet: FleetFlags

    @Option(parsing: .unconditional,
            help: "Run length, 1ns to 8760h: simulated time, or real time with --live (default: the scenario's, usually 60s).")
    var duration: DurationArgument?

    @Option(help: "Report format.")
    var format: ReportFormat = .table

    @Flag(help: "Run live: real tasks on the library's async buckets for --duration of real time (report \"mode\": \"live\").")
    var live = false

    @Option(help: "Where the scenario's replicas keep their buckets: local-full, local-split or shared (the scenario needs a [replicas] table, as the built-in `replicas` has).")
    var replicasBuckets: ReplicaSpec.Buckets?

    @Option(help: "With --live: `tasks` (each waiting request a task on the library's limiter, the default) or `core` (the fleet core's own queues, paced on the clock).")
    var liveMode: LiveMode?

    func validate() throws {
        try FlagCheck.duration(duration, "--duration", InputLimits.runDuration)
        if liveMode != nil, !live { throw ValidationError("--live-mode needs --live") }
    }

    func run() async throws {
        var options = fleet.options
        options.replicaBuckets = replicasBuckets
        let request = RunRequest(options: options, duration: duration?.nanoseconds, format: format)
        let output = live ? try await request.executeLive(mode: liveMode ?? .tasks) : try request.execute()
        FileHandle.standardOutput.write(Data(output.utf8))
    }
}
