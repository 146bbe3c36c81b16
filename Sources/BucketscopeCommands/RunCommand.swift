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
            """)

    @Option(help: "A built-in scenario name (see `bucketscope scenarios`) or a path to a TOML file.")
    var scenario: String = "noisy-neighbor"

    @Option(help: "Keying strategy: shared, per-user, per-tenant or hierarchical (default: the scenario's).")
    var keying: String?

    @Option(help: "Capacity of every client bucket, in tokens (default: the scenario's).")
    var capacity: String?

    @Option(help: "Refill of every client bucket, in tokens per second (default: the scenario's).")
    var refill: String?

    @Option(help: "Simulated run length, e.g. 90s, 10m, 1h (default: the scenario's, usually 60s).")
    var duration: String?

    @Option(help: "Random seed; the same seed gives the same report.")
    var seed: String = "1"

    @Option(help: "Report format: table, json or csv.")
    var format: String = "table"

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
            output = try request.execute()
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
