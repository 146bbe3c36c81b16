import Foundation
import Testing

/// `run --live` stopped by a signal prints the report so far, then exits 128 + the signal.
/// A real-time smoke test: it runs the binary for about a second of real time; the only timing
/// it asserts is that the report covers less than the hour asked for.
@Suite("live interrupt (real time)", .serialized)
struct LiveInterruptTests {
    @Test(arguments: [(SIGINT, 130), (SIGTERM, 143)] as [(Int32, Int32)])
    func aStopSignalPrintsTheReportSoFar(signal: Int32, status: Int32) async throws {
        #expect(FileManager.default.isExecutableFile(atPath: builtBinary.path), "missing \(builtBinary.path)")
        let p = try await offPool { () throws -> (terminationReason: Process.TerminationReason, terminationStatus: Int32, data: Data) in
            let p = Process()
            p.executableURL = builtBinary
            p.arguments = ["run", "--live", "--duration", "1h", "--format", "json"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            Thread.sleep(forTimeInterval: 1.5)   // real time: the fleet starts and sends
            kill(p.processIdentifier, signal)
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationReason, p.terminationStatus, data)
        }
        let data = p.data
        #expect(p.terminationReason == .exit)
        #expect(p.terminationStatus == status)
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(report?["mode"] as? String == "live")
        let seconds = try #require(report?["duration_s"] as? Double)
        #expect(seconds > 0 && seconds < 600)
    }
}
