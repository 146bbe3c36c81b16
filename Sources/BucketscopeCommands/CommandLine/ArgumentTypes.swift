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
///
/// Any text is accepted here and judged in `FlagCheck.duration` (from the command's
/// `validate()`), so a bad one is reported with the flag's name, the value, why it is not a
/// duration and what is accepted — argument-parser's own message for a value it cannot read
/// says none of that. With `parsing: .unconditional` a value such as `-3s` reaches us too,
/// instead of being taken for an option.
struct DurationArgument: ExpressibleByArgument, Sendable {
    var text: String
    /// The duration, or why `text` is not one.
    var reading: Result<Nanoseconds, DurationText.Malformed>

    /// The duration in nanoseconds; 0 for text that is not one, which `validate()` has refused
    /// before any command runs.
    var nanoseconds: Nanoseconds { (try? reading.get()) ?? 0 }

    init?(argument: String) {
        text = argument
        reading = DurationText.read(argument)
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

    /// A duration flag: text that is not a duration gets "--max-wait: -3s is negative; give a
    /// duration from 0s to 8760h, like 500ms or 2s"; a duration out of range the range message
    /// the other flags give ("--store-timeout must be at least 1ms, got 0s (valid: 1ms to 10s)").
    static func duration(_ value: DurationArgument?, _ flag: String, _ valid: ValidDuration) throws {
        guard let value else { return }
        switch value.reading {
        case .failure(let malformed):
            throw ValidationError("\(flag): \(malformed.why); give a duration from \(valid), like \(examples(valid))")
        case .success(let ns):
            guard let problem = valid.violation(ns) else { return }
            throw ValidationError("\(flag) \(problem)")
        }
    }

    /// Two durations written the usual ways, inside `valid` where possible ("500ms or 2s").
    static func examples(_ valid: ValidDuration) -> String {
        let usual: [Nanoseconds] = [500_000_000, 2_000_000_000, 90_000_000_000, 50_000_000, 10_000_000_000]
        let inside = usual.filter { (valid.lower...valid.upper).contains($0) }.prefix(2).map(DurationText.format)
        switch inside.count {
        case 2: return "\(inside[0]) or \(inside[1])"
        case 1: return inside[0]
        default: return DurationText.format(valid.lower)
        }
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
