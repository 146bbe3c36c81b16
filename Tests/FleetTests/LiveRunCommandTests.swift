import Foundation
import Testing

/// `bucketscope run --live` end to end, through the built executable. REAL TIME: 1 s runs.
/// Without the executable these fail (never skip): build it first (`swift build`).
@Suite(.tags(.realTime))
struct LiveRunCommandTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: bucketscopeBinary.path),
                     "no executable at \(bucketscopeBinary.path): run `swift build` first")
    }

    @Test func runLivePrintsTheSameReportInModeLive() async throws {
        let r = try await bucketscope(["run", "--live", "--duration", "1s", "--format", "json", "--scenario", "burst"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("\"scenario\": \"burst\""))
        #expect(r.out.contains("\"mode\": \"live\""))
        #expect(r.out.contains("\"duration_s\": 1,"))
        #expect(r.out.contains("\"name\": \"steady\""))
    }

    @Test func runLiveTableSaysLive() async throws {
        let r = try await bucketscope(["run", "--live", "--duration", "500ms", "--keying", "hierarchical"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("scenario noisy-neighbor (live), keying hierarchical, seed 1, 0.5 s run live in"))
        #expect(r.out.contains("tenant:acme"))
    }

    @Test func runLiveChecksItsValuesLikeRun() async throws {
        let r = try await bucketscope(["run", "--live", "--duration", "0s"])
        #expect(r.status == 2)
        #expect(r.err.contains("--duration must be > 0"))
    }
}
