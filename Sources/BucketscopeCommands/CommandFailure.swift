import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A user-facing failure: printed on standard error (as `bucketscope: <message>` unless it
/// already says where, like `line 7: ...`), exit status 2.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    /// Whether to print `bucketscope: ` before the message (not for `line N: ...` errors).
    var prefixed: Bool
    init(_ message: String, prefixed: Bool = true) {
        self.message = message
        self.prefixed = prefixed
    }
    var description: String { message }
}

extension BucketscopeCommand {
    /// Runs the command line. Bad input of any kind (unknown flag, bad value, malformed file)
    /// prints one clear message on standard error and exits with status 2; `--help` exits 0.
    public static func runMain(_ arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Glibc.exit(0)
        } catch let failure as CommandFailure {
            printError(failure.prefixed ? "bucketscope: \(failure.message)" : failure.message)
            Glibc.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success { BucketscopeCommand.exit(withError: error) }
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Glibc.exit(2)
            }
            BucketscopeCommand.exit(withError: error)
        }
    }
}

/// Writes one line to standard error (unbuffered, safe from any thread).
func printError(_ message: String) {
    var line = Array(message.utf8)
    line.append(10)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress!, $0.count) }
}
