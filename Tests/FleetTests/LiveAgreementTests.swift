import Foundation
import Testing
@testable import Fleet
import TokenBucket

/// Live and simulated runs of the same scenario and seed agree: per group, admitted counts
/// within 5 % and p99 waits within 20 ms over 10 s. REAL TIME: 10 s of wall time (the cases
/// run at once).
///
/// Each live run is `bucketscope run --live --duration 10s` in a process of its own, so the
/// CPU-bound tests that share this test process's two cooperative threads cannot hold its
/// tasks up; the simulated run is in-process. The live run draws the same arrivals and costs as
/// the simulator (same generators); what differs is real time: arrivals land when a sleeping
/// task wakes (late by the scheduler's delay), and the upstream's latency draws interleave
/// differently across concurrent tasks. The measured window is exactly [0, 10 s] on the fleet's
/// clock (``LiveFleet/init(scenario:seed:window:)``), as for the simulator. Waits on both sides
/// are the bucket's (request to admission instant); live resume lateness is measured apart.
///
/// `upstream-429` is held to the admitted-count bound only. Its clients retry on the provider's
/// Retry-After, which is rounded up to a whole millisecond, so retries from different users
/// land on the same instant and race for the one token the provider's burst bucket has then:
/// the simulator breaks such ties by event order, live mode by which sleeping task wakes
/// first. Who wins decides whose client bucket pays for one more retry: one token of a 3/s
/// bucket moves that user's later waits by a third of a second (measured: admitted 201–209
/// live vs 202 simulated over ten runs, 429s 147–155 vs 148; p99 1,343–2,015 ms live vs
/// 1,638 ms simulated, all of it one user's queue: with tuning off too, user-4 max 1,916 ms
/// live, 1,599 ms simulated, after one retry more).
extension LiveRealTime { @Suite struct Agreement {
    /// Every built-in scenario as it ships, and the noisy neighbour under the other keyings.
    static let cases: [(String, Keying?)] = Scenario.builtIn.map { ($0.name, nil) }
        + [("noisy-neighbor", .shared), ("noisy-neighbor", .perTenant), ("noisy-neighbor", .hierarchical)]

    @Test func liveAndSimulatedAgreeOverTenSeconds() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: bucketscopeBinary.path),
                     "build the bucketscope executable first (swift build)")
        // All at once (each is light), so the test takes 10 s, not 70.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, keying) in Self.cases { group.addTask { try await agree(name, keying) } }
            try await group.waitForAll()
        }
    }

    struct GroupFigures { var name: String; var admitted: Int; var p99: Double }

    func agree(_ scenarioName: String, _ keying: Keying?) async throws {
        var args = ["run", "--live", "--duration", "10s", "--format", "json", "--seed", "1", "--scenario", scenarioName]
        if let keying { args += ["--keying", keying.rawValue] }
        let json = try await runBucketscope(args)
        var scenario = Scenario.named(scenarioName)!
        if let keying { scenario.keying = keying }
        let sim = try Simulation(scenario: scenario, seed: 1)
        sim.run(until: 10 * second)
        let s = sim.report()
        let live = try Self.groups(json)
        let name = scenarioName + (keying.map { " (\($0.rawValue))" } ?? "")
        #expect(live.map(\.name) == s.groups.map(\.name), "\(name)")
        for (lg, sg) in zip(live, s.groups) {
            let line = "\(name) \(lg.name): admitted live \(lg.admitted) sim \(sg.admitted); p99 wait ms live \(lg.p99) sim \(sg.waitMs.p99)"
            print("agreement: " + line)
            #expect(Double(abs(lg.admitted - sg.admitted)) <= 0.05 * Double(sg.admitted), "\(line)")
            if scenarioName != "upstream-429" { #expect(abs(lg.p99 - sg.waitMs.p99) <= 20, "\(line)") }
        }
    }

    /// Groups of a `run --format json` report.
    static func groups(_ json: Data) throws -> [GroupFigures] {
        let report = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(report["mode"] as? String == "live")
        let groups = try #require(report["groups"] as? [[String: Any]])
        return try groups.map { g in
            let waits = try #require(g["wait_ms"] as? [String: Any])
            return GroupFigures(name: try #require(g["name"] as? String), admitted: try #require(g["admitted"] as? Int),
                                p99: try #require((waits["p99"] as? NSNumber)?.doubleValue))
        }
    }

    /// Runs the executable without blocking a thread while it runs; returns its stdout.
    func runBucketscope(_ args: [String]) async throws -> Data {
        let p = Process()
        p.executableURL = bucketscopeBinary
        p.arguments = args
        p.currentDirectoryURL = repositoryRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { c in
            p.terminationHandler = { c.resume(returning: $0.terminationStatus) }
            do { try p.run() } catch { c.resume(throwing: error) }
        }
        #expect(status == 0, "bucketscope \(args.joined(separator: " "))")
        return out.fileHandleForReading.readDataToEndOfFile()
    }
} }
