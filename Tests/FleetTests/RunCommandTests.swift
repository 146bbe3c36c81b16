import Foundation
import Testing

let bucketscopeBinary = repositoryRoot.appendingPathComponent(".build/debug/bucketscope")

/// Runs the built executable from the repository root; its exit status, stdout and stderr.
/// Runs the executable (off the cooperative pool) and returns its status and output.
func bucketscope(_ args: [String]) async throws -> (status: Int32, out: String, err: String) {
    try await offPool { try bucketscopeBlocking(args) }
}

func bucketscopeBlocking(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = bucketscopeBinary
    p.arguments = args
    p.currentDirectoryURL = repositoryRoot
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// `bucketscope run` end to end, through the built executable (`swift test` builds it).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: bucketscopeBinary.path)))
struct RunCommandTests {
    @Test(arguments: [
        (["--keying", "per-key"], "the value 'per-key' is invalid for '--keying <keying>'. Please provide one of 'shared', 'per-user', 'per-tenant' or 'hierarchical'"),
        (["--duration", "5 parsecs"], "--duration"),
        (["--duration", "0s"], "--duration must be > 0"),
        (["--capacity", "-1"], "--capacity must be > 0"),
        (["--refill=-3"], "--refill must be > 0"),
        (["extra"], "unexpected argument 'extra'"),
        (["--capacity", "0"], "--capacity must be > 0"),
        (["--refill", "lots"], "the value 'lots' is invalid for '--refill <tokens/s>'"),
        (["--seed", "abc"], "the value 'abc' is invalid for '--seed <seed>'"),
        (["--format", "xml"], "the value 'xml' is invalid for '--format <format>'. Please provide one of 'table', 'json', 'csv' or 'svg'"),
        (["--scenario", "nope"], "unknown scenario \"nope\""),
        (["--bogus"], "unknown option '--bogus'"),
    ])
    func badValuesExitWithStatus2(args: [String], message: String) async throws {
        let r = try await bucketscope(["run"] + args)
        #expect(r.status == 2)
        #expect(r.err.contains(message), "\(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func aBadScenarioFileExits2WithFileLineAndField() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bucketscope-bad-\(getpid()).toml")
        try "[[clients]]\nname = \"a\"\nrate = \"fast\"\n".write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let r = try await bucketscope(["run", "--scenario", path.path])
        #expect(r.status == 2)
        #expect(r.err.contains("\(path.path):3: rate: expected a number, got \"fast\""), "\(r.err)")
    }

    @Test func jsonReportHasTheAgreedFields() async throws {
        let r = try await bucketscope(["run", "--format", "json", "--duration", "10s", "--seed", "1"])
        #expect(r.status == 0)
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        for f in ["scenario", "mode", "seed", "duration_s", "keying", "groups", "keys", "upstream", "wall_s"] {
            #expect(obj[f] != nil, "\(f)")
        }
        #expect(obj["scenario"] as? String == "noisy-neighbor")
        #expect(obj["mode"] as? String == "simulated")
        #expect(obj["keying"] as? String == "per-user")
        let g = (obj["groups"] as! [[String: Any]])[0]
        for f in ["name", "clients", "requests", "admitted", "rejected", "upstream_429", "wait_ms"] { #expect(g[f] != nil, "\(f)") }
        let k = (obj["keys"] as! [[String: Any]])[0]
        for f in ["key", "group", "capacity", "refill_per_s", "requests", "admitted", "rejected", "upstream_429", "max_queue", "wait_ms"] {
            #expect(k[f] != nil, "\(f)")
        }
        #expect(k["key"] as? String == "user-1")
        let w = k["wait_ms"] as! [String: Any]
        for f in ["p50", "p90", "p99", "max"] { #expect(w[f] != nil) }
        let u = obj["upstream"] as! [String: Any]
        for f in ["requests", "status_429", "rate_429"] { #expect(u[f] != nil) }
    }

    @Test func scenariosListsEachBuiltInNameFirst() async throws {
        let r = try await bucketscope(["scenarios"])
        #expect(r.status == 0)
        let names = r.out.split(separator: "\n").map { $0.split(separator: " ")[0] }
        #expect(names == ["noisy-neighbor", "burst", "llm-tokens", "upstream-429", "replicas"])
    }
}
