import ArgumentParser
import Fleet
import Foundation
import TokenBucket

/// `bucketscope run`: runs a scenario in the simulator without a terminal and prints a report.
///
/// Every value is read as text and checked here, so a bad value prints one clear line on stderr
/// and exits with status 2 (ArgumentParser's own validation status would be 64).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario headless (simulated) and print a report.",
        discussion: """
            Durations accept 500ms, 90s, 10m, 1h. Bad values exit with status 2.
            Examples:
              bucketscope run --scenario noisy-neighbor --keying shared --format json
              bucketscope run --scenario scenarios/burst.toml --duration 10m --seed 7
              bucketscope run --live --duration 10s     (real tasks on real buckets, 10 s of real time)
            """)

    @Option(parsing: .unconditional, help: "A built-in scenario name (see `bucketscope scenarios`) or a path to a TOML file.")
    var scenario: String = "noisy-neighbor"

    @Option(parsing: .unconditional, help: "Keying strategy: shared, per-user, per-tenant or hierarchical (default: the scenario's).")
    var keying: String?

    @Option(parsing: .unconditional, help: "Capacity of every client bucket, in tokens (default: the scenario's).")
    var capacity: String?

    @Option(parsing: .unconditional, help: "Refill of every client bucket, in tokens per second (default: the scenario's).")
    var refill: String?

    @Option(parsing: .unconditional, help: "Simulated run length, e.g. 90s, 10m, 1h (default: the scenario's, usually 60s).")
    var duration: String?

    @Option(parsing: .unconditional, help: "Random seed; the same seed gives the same report.")
    var seed: String = "1"

    @Option(parsing: .unconditional, help: "Report format: table, json or csv.")
    var format: String = "table"

    @Flag(help: "Run live: real tasks on the library's async buckets for --duration of real time (report \"mode\": \"live\").")
    var live = false

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var unrecognized: [String] = []

    func run() async throws {
        let request: RunRequest
        do {
            request = try RunRequest(scenario: scenario, keying: keying, capacity: capacity, refill: refill,
                                     duration: duration, seed: seed, format: format, unrecognized: unrecognized)
        } catch {
            Self.fail(error)
        }
        let output: String
        do {
            output = live ? try await request.executeLive() : try request.execute()
        } catch {
            Self.fail(error)
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    /// Prints `error: <message>` on stderr and exits with status 2.
    static func fail(_ error: any Error) -> Never {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        Foundation.exit(2)
    }
}

extension RunRequest {
    /// Runs the scenario live for the duration in real time, stops every task, renders the report.
    func executeLive() async throws -> String {
        let scenario = try Scenario.resolve(options)
        let length = duration ?? scenario.duration
        let fleet = try LiveFleet(scenario: scenario, seed: options.seed, window: length)
        try? await Task.sleep(until: fleet.startedAt.advanced(by: .nanoseconds(length)), clock: .continuous)
        await fleet.stop()
        let report = fleet.report(duration: length)
        switch format {
        case .json: return report.json() + "\n"
        case .table: return report.table()
        case .csv: return report.csv()
        }
    }
}
