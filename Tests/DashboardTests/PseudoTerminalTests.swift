import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real binary in a pseudo-terminal: it starts, draws, quits on `q` and restores the screen.
@Suite struct PseudoTerminalTests {
    static let binary: URL? = {
        let root = Fixtures.packageRoot
        for path in [".build/debug/bucketscope", ".build/x86_64-unknown-linux-gnu/debug/bucketscope",
                     ".build/aarch64-unknown-linux-gnu/debug/bucketscope"] {
            let url = root.appendingPathComponent(path)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()

    /// libc's pseudo-terminal calls, looked up at run time: Swift's Glibc module leaves them out
    /// (they need _XOPEN_SOURCE), and a test target cannot add a C shim.
    static func libc<T>(_ name: String, as type: T.Type) -> T? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil } // RTLD_DEFAULT
        return unsafeBitCast(symbol, to: type)
    }

    /// A pseudo-terminal pair, or nil where the system has none.
    static func openPseudoTerminal() -> (master: Int32, slavePath: String)? {
        typealias IntOfInt = @convention(c) (Int32) -> Int32
        typealias Name = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
        guard let openpt = libc("posix_openpt", as: IntOfInt.self), let grant = libc("grantpt", as: IntOfInt.self),
              let unlock = libc("unlockpt", as: IntOfInt.self), let ptsname = libc("ptsname", as: Name.self) else { return nil }
        let master = openpt(O_RDWR | O_NOCTTY)
        guard master >= 0 else { return nil }
        guard grant(master) == 0, unlock(master) == 0, let name = ptsname(master) else { close(master); return nil }
        return (master, String(cString: name))
    }

    static let available: Bool = {
        guard let pty = openPseudoTerminal() else { return false }
        close(pty.master)
        return true
    }()

    /// Reads what the program writes until `done` says stop or `seconds` pass (poll, no sleeps).
    static func read(_ fd: Int32, into output: inout [UInt8], seconds: Double, until done: ([UInt8]) -> Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, !done(output) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { return }
            output += buffer[0..<n]
        }
    }

    /// The built binary; a missing one fails the test (a skipped test would pass while the
    /// binary is broken or unbuilt).
    static func requireBinary() throws -> URL {
        try #require(binary, "bucketscope is not built: run `swift build` before `swift test`")
    }

    /// What a session in a pseudo-terminal saw: the program's exit and everything it wrote.
    struct Session: Sendable {
        var exitedInTime: Bool
        var reason: Process.TerminationReason
        var status: Int32
        var output: String
    }

    /// Starts the dashboard in a pseudo-terminal at 80×24, waits for `ready` in its output,
    /// types `input`, and waits for it to leave the alternate screen and exit. The waits are
    /// only hang guards (60 s to start, 30 s for each later mark and for the exit): a loaded
    /// machine has taken seconds to start the binary.
    /// Blocking: run through ``offPool(_:)``.
    static func session(binary: URL, ready: [String], input: String) throws -> Session {
        guard let pty = openPseudoTerminal() else { throw CocoaError(.fileNoSuchFile) }
        defer { close(pty.master) }
        guard let slave = FileHandle(forUpdatingAtPath: pty.slavePath) else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--fps", "50"]
        process.environment = ["TERM": "xterm-256color", "LANG": "C.UTF-8", "LINES": "24", "COLUMNS": "80",
                               "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        process.standardInput = slave
        process.standardOutput = slave
        process.standardError = slave
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        try slave.close()
        var output: [UInt8] = []
        func contains(_ s: String) -> ([UInt8]) -> Bool { { String(decoding: $0, as: UTF8.self).contains(s) } }
        for (i, mark) in ready.enumerated() { read(pty.master, into: &output, seconds: i == 0 ? 60 : 30, until: contains(mark)) }
        _ = input.withCString { write(pty.master, $0, strlen($0)) }
        read(pty.master, into: &output, seconds: 30, until: contains(exitMark))
        var inTime = true
        if exited.wait(timeout: .now() + 30) == .timedOut {
            inTime = false
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return Session(exitedInTime: inTime, reason: process.terminationReason, status: process.terminationStatus,
                       output: String(decoding: output, as: UTF8.self))
    }

    /// xterm's rmcup: curses left the alternate screen.
    static let exitMark = "\u{1B}[?1049l"

    @Test(.enabled(if: available, "this system has no pseudo-terminals (posix_openpt failed)"))
    func startsDrawsAndQuitsOnQWithTheTerminalRestored() async throws {
        let binary = try Self.requireBinary()
        let s = try await offPool { try Self.session(binary: binary, ready: ["noisy-neighbor"], input: "q") }
        #expect(s.output.contains("noisy-neighbor"), "the header was never drawn")
        #expect(s.exitedInTime, "bucketscope did not quit on q")
        #expect(s.reason == .exit)
        #expect(s.status == 0)
        #expect(s.output.contains(Self.exitMark), "the terminal was not restored")
    }

    @Test(.enabled(if: available, "this system has no pseudo-terminals (posix_openpt failed)"))
    func aClickOnQuitInTheHintBarQuits() async throws {
        let binary = try Self.requireBinary()
        // The program asks for SGR mouse reports (xterm's 1006) once it runs, then draws the hints.
        // Button 1 pressed and released on the "q" of "q quit": column 2, row 24 (1-based).
        let click = "\u{1B}[<0;2;\(Self.clickRow)M\u{1B}[<0;2;\(Self.clickRow)m"
        let s = try await offPool { try Self.session(binary: binary, ready: ["\u{1B}[?1006;1000h", "quit"], input: click) }
        #expect(s.output.contains("\u{1B}[?1006;1000h"), "mouse reports were never enabled")
        #expect(s.exitedInTime, "a click on the hint bar's quit did not quit")
        #expect(s.status == 0)
    }

    /// The hint bar's row at 80×24.
    static let clickRow = 24

    @Test func withoutATerminalItPointsToRunAndExitsWith2() async throws {
        let binary = try Self.requireBinary()
        let (status, message) = try await offPool { () throws -> (Int32, String) in
            let process = Process()
            process.executableURL = binary
            let errors = Pipe()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = Pipe()
            process.standardError = errors
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, message)
        }
        #expect(status == 2)
        #expect(message.contains("bucketscope run"))
        #expect(message.split(separator: "\n").count == 1)
    }
}
