import ArgumentParser
import Fleet
import TokenBucket
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A user-facing failure thrown from a command's `run()`: printed by ``BucketscopeCommand/runMain(_:)``
/// as `bucketscope: <message>`, exit status 2.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension BucketscopeCommand {
    /// Runs the command line. Bad input of any kind (unknown flag, missing or bad value, value out
    /// of range, malformed scenario file or replay log) prints ONE line on standard error,
    /// `bucketscope: <message>`, and exits with status 2; `--help` exits 0. Every command's
    /// errors go through here, so there is one writer and one prefix.
    public static func runMain(_ arguments: [String]? = nil) async -> Never {
        let args = arguments ?? Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(args)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            processExit(0)
        } catch let exit as ExitCode {
            // Already reported by the command (the dashboard, a signal), or a clean exit.
            processExit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success { BucketscopeCommand.exit(withError: error) }   // --help, --version
            let message = code == .validationFailure ? parserMessage(error, arguments: args) : "\(error)"
            printError("bucketscope: " + message)
            processExit(isBadInput(error) || code == .validationFailure ? 2 : 1)
        }
    }

    /// Argument-parser's message for a parse or validation error on one line, without the usage
    /// block it would print: "unknown option '--bogus' (see `bucketscope run --help`)".
    static func parserMessage(_ error: any Error, arguments: [String]) -> String {
        var message = BucketscopeCommand.message(for: error)
        // A value our own checks refused arrives wrapped in "The value '...' is invalid for
        // '--flag <x>': <our message>"; our message already names the flag and the value.
        if message.hasPrefix("The value '"), let r = message.range(of: ">': ") {
            message = String(message[r.upperBound...])
        }
        if let first = message.first, first.isUppercase, !message.hasPrefix("--") {
            message = first.lowercased() + message.dropFirst()
        }
        if message.hasSuffix(".") { message.removeLast() }
        let names = BucketscopeCommand.configuration.subcommands.map { $0._commandName }
        let sub = arguments.first { names.contains($0) }.map { " " + $0 } ?? ""
        let isRangeCheck = message.hasPrefix("--") || message.contains("(valid:")
        return isRangeCheck ? message : message + " (see `bucketscope\(sub) --help`)"
    }

    /// Errors that mean the input was wrong (exit 2), as opposed to the system failing (exit 1).
    static func isBadInput(_ error: any Error) -> Bool {
        error is CommandFailure || error is ScenarioError || error is FleetError || error is BucketError
            || error is ResourceLimitError || error is ReplayError || error is ValidationError
    }
}

/// Ends the process with `status` (Glibc or Darwin `exit`).
func processExit(_ status: Int32) -> Never {
    #if canImport(Glibc)
    Glibc.exit(status)
    #elseif canImport(Darwin)
    Darwin.exit(status)
    #endif
}

/// Writes one line to standard error (unbuffered, safe from any thread).
func printError(_ message: String) {
    var line = Array(message.utf8)
    line.append(10)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress!, $0.count) }
}
