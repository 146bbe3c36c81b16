import ArgumentParser
import Fleet
import Foundation
import TokenBucket

/// `bucketscope check`: checks scenario files and replay logs without running them for real:
/// one line per file, `<file>: ok` or the error, exit status 2 if any is bad.
///
/// With `--simulate`, every scenario that passes is also simulated for that long (at most its
/// own duration), within the request budget: how the fuzz tests show that any accepted input
/// runs to completion. A process that dies while checking (it must not) is found by the number
/// of lines it printed.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check scenario files (.toml) and replay logs (.csv): one line per file, ok or the error.",
        discussion: """
            Replay logs are read as `replay --capacity C --refill R` would read them (default 5 and 1). \
            Exit status 0 when every file is good, 2 when any is not.
            """)

    @Option(parsing: .unconditional, help: "Also simulate each good scenario for this long (at most its own duration).")
    var simulate: DurationArgument?

    @Option(parsing: .unconditional, help: ArgumentHelp("Capacity for replay logs.", valueName: "tokens"))
    var capacity: Double = 5

    @Option(parsing: .unconditional, help: ArgumentHelp("Refill for replay logs.", valueName: "tokens/s"))
    var refill: Double = 1

    @Option(help: "Most requests a --simulate run may be estimated at (default: the run budget).")
    var budget: Double = InputLimits.requestBudget

    @Flag(help: "Replay logs with one bucket per key.")
    var perKey = false

    @Argument(help: "Files to check.")
    var files: [String] = []

    func validate() throws {
        try FlagCheck.duration(simulate, "--simulate", InputLimits.runDuration)
        try FlagCheck.number(capacity, "--capacity", InputLimits.capacity)
        try FlagCheck.number(refill, "--refill", InputLimits.refill)
        try FlagCheck.number(budget, "--budget", ValidRange(1, InputLimits.requestBudget, unit: "requests"))
    }

    func run() throws {
        var bad = 0
        for file in files {
            let verdict: String
            do {
                try check(file)
                verdict = "ok"
            } catch {
                bad += 1
                verdict = "\(error)"
            }
            // One line per file, written at once, so a parent can count the files done.
            var line = Array("\(file): \(verdict.replacingOccurrences(of: "\n", with: " "))\n".utf8)
            line.withUnsafeMutableBytes { _ = write(1, $0.baseAddress!, $0.count) }
        }
        if bad > 0 { throw ExitCode(2) }
    }

    private func check(_ file: String) throws {
        if file.hasSuffix(".csv") {
            let fd = open(file, O_RDONLY)
            guard fd >= 0 else { throw CommandFailure("cannot open \(file)") }
            defer { close(fd) }
            try ReplayCommand.replay(configuration: try BucketConfiguration(capacity: capacity, refillPerSecond: refill),
                                     perKey: perKey, summary: file.hasSuffix(".summary.csv"), input: fd) { _ in }
            return
        }
        let scenario = try Scenario.load(path: file)
        try scenario.checkTotals()
        guard let simulate else { return }
        let length = min(simulate.nanoseconds, scenario.duration)
        try scenario.checkBudget(duration: length, budget: budget)
        let sim = try Simulation(scenario: scenario, seed: 1)
        sim.run(until: length)
    }
}
