import ArgumentParser
import Fleet
import TokenBucket

// The typed values flags take. Argument-parser reads each into its type (a value of the wrong
// kind is reported as "the value 'x' is invalid for '--flag <type>'"); ranges are checked in
// one place, `FlagCheck`, from each command's `validate()`.

extension Keying: ExpressibleByArgument {}

/// `run`'s report formats.
enum ReportFormat: String, CaseIterable, ExpressibleByArgument {
    /// `svg`: the run's time series as a standalone chart (wait p99 and admitted/s per group,
    /// tokens of the busiest keys), for sharing a finding where a terminal is not.
    case table, json, csv, svg
}

/// A duration flag as people write it: `500ms`, `90s`, `10m`, `1h`, `2m30s` (see `DurationText`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    var nanoseconds: Nanoseconds
    var text: String

    init?(argument: String) {
        guard let ns = try? DurationText.parse(argument) else { return nil }
        nanoseconds = ns
        text = argument
    }

    static var defaultValueDescription: String { "duration" }
}

/// Range checks of flag values, in one place: each throws a `ValidationError` whose message
/// names the flag, the value and the valid range ("--capacity must be > 0, got -1 (valid: 1e-9
/// to 1e9 tokens)"); `runMain` prints it on one line and exits 2.
enum FlagCheck {
    static func number(_ value: Double?, _ flag: String, _ valid: ValidRange) throws {
        guard let value, let problem = valid.violation(value) else { return }
        throw ValidationError("\(flag) \(problem)")
    }

    static func duration(_ value: DurationArgument?, _ flag: String, _ valid: ValidDuration) throws {
        guard let value, let problem = valid.violation(value.nanoseconds) else { return }
        throw ValidationError("\(flag) \(problem)")
    }

    static func count(_ value: Int?, _ flag: String, _ valid: ValidCount) throws {
        guard let value, let problem = valid.violation(value) else { return }
        throw ValidationError("\(flag) \(problem)")
    }
}

/// The flags that choose a fleet, shared by `run` and `dashboard`.
struct FleetFlags: ParsableArguments {
    @Option(help: "A built-in scenario name (see `bucketscope scenarios`) or a path to a TOML file.")
    var scenario: String = "noisy-neighbor"

    @Option(help: "Keying strategy (default: the scenario's).")
    var keying: Keying?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Capacity of every client bucket (default: the scenario's).",
                               discussion: "Tokens, \(InputLimits.capacity.description.replacingOccurrences(of: " tokens", with: "")).",
                               valueName: "tokens"))
    var capacity: Double?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Refill of every client bucket (default: the scenario's).",
                               discussion: "Tokens per second, \(InputLimits.refill.description.replacingOccurrences(of: " tokens per second", with: "")).",
                               valueName: "tokens/s"))
    var refill: Double?

    @Option(parsing: .unconditional, help: "Random seed, 0 to 2^64-1; the same seed gives the same run.")
    var seed: UInt64 = 1

    func validate() throws {
        try FlagCheck.number(capacity, "--capacity", InputLimits.capacity)
        try FlagCheck.number(refill, "--refill", InputLimits.refill)
    }

    var options: FleetOptions {
        FleetOptions(scenario: scenario, keying: keying, capacity: capacity, refill: refill, seed: seed)
    }
}
