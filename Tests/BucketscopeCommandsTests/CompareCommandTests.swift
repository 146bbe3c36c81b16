import Testing
import TokenBucket
@testable import BucketscopeCommands
#if canImport(Glibc)
import Glibc
#endif

/// `compare` with `arguments`, as the command line would run it; the output or the failure.
func compare(_ arguments: [String]) throws -> String {
    let command = try CompareCommand.parse(arguments)
    return try CompareRequest(command).execute()
}

/// A temporary replay log holding `text`; removed by the caller.
func replayFile(_ text: String) -> String {
    var template = Array("/tmp/bucketscope-compare-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    Array(text.utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress!, $0.count) }
    close(fd)
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite("compare command")
struct CompareCommandTests {
    @Test func aReplayLogThroughEveryAlgorithmAsCSV() throws {
        // Rate 2/s, window 1 s → burst 2 and 2 per second. Five requests at 0, one at 1.0.
        let path = replayFile("time_s,key,cost\n0,a,1\n0,a,1\n0,a,1\n0,a,1\n0,a,1\n1.0,a,1\n")
        defer { unlink(path) }
        let out = try compare(["--replay", path, "--rate", "2", "--window", "1s", "--format", "csv",
                               "--algorithms", "token-bucket,leaky-queue,fixed-window,sliding-log"])
        let rows = out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows[0].first == "algorithm")
        // Bucket: 2 at 0, 2 refilled by 1.0 → 3. Queue: 0, 0.5, 1.0 (2 ahead); at 1.0 the next
        // slot is 1.5 (1 ahead) → 4, waits 0, 500, 1000, 500 ms. Windows: 2 at 0, 1 at 1.0.
        #expect(rows[1][0] == "token-bucket" && rows[1][3] == "3" && rows[1][4] == "3")
        #expect(rows[2][0] == "leaky-queue" && rows[2][3] == "4" && rows[2][4] == "2")
        #expect(rows[2][5] == "500" && rows[2][6] == "1000")
        #expect(rows[3][3] == "3" && rows[4][3] == "3")
    }

    @Test func aScenarioSuggestsItsBucketAsTheBudget() throws {
        let out = try compare(["--scenario", "burst", "--algorithms", "gcra", "--duration", "20s"])
        // The burst scenario's per-user bucket: 10, 2/s, so W = 10 / 2 = 5 s.
        #expect(out.contains("rate 2/s, burst 10, window 5s (10 per window)"))
        #expect(out.contains("capacity 10, 2/s"))
    }

    @Test func burstAndWindowDeriveEachOther() throws {
        let b = try CompareRequest.budget(rate: "6000", burst: "60000", window: nil, concurrency: nil,
                                          suggested: nil, meanService: 1_000_000_000)
        #expect(b.window == 10_000_000_000 && b.windowLimit == 60_000 * TokenUnits.perToken)
        #expect(b.concurrency == 6_000 * TokenUnits.perToken)
        let w = try CompareRequest.budget(rate: "0.5", burst: nil, window: "1m", concurrency: "3",
                                          suggested: nil, meanService: 0)
        #expect(w.burst == 30 * TokenUnits.perToken && w.concurrency == 3 * TokenUnits.perToken)
    }

    @Test(arguments: [
        (["--rate", "1"], "give the traffic"),
        (["--scenario", "burst", "--replay", "x"], "alternatives"),
        (["--scenario", "burst", "--algorithms", "token-bucket,leaky"], "unknown algorithm \"leaky\""),
        (["--scenario", "burst", "--rate", "-1"], "--rate must be a number > 0"),
        (["--scenario", "burst", "--window", "0s"], "--window must be > 0"),
        (["--scenario", "burst", "--format", "xml"], "--format must be"),
        (["--scenario", "nope"], "unknown scenario"),
        (["--replay", "/nonexistent/log.csv", "--rate", "1"], "cannot open"),
    ])
    func badInputSaysWhatIsWrong(arguments: [String], message: String) {
        do {
            _ = try compare(arguments)
            Issue.record("expected a failure for \(arguments)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func aMalformedLogNamesTheLine() throws {
        let path = replayFile("0,a,1\n2,a,1\n1,a,1\n")
        defer { unlink(path) }
        #expect(throws: ReplayError.self) { try compare(["--replay", path, "--rate", "1"]) }
    }

    @Test func jsonHasOneObjectPerAlgorithm() throws {
        let out = try compare(["--scenario", "noisy-neighbor", "--duration", "10s", "--format", "json"])
        #expect(out.hasPrefix("{\"source\":\"noisy-neighbor (seed 1, 10s, open loop)\""))
        for a in ["token-bucket", "gcra", "leaky-queue", "fixed-window", "sliding-log", "sliding-counter", "concurrency"] {
            #expect(out.contains("{\"algorithm\":\"\(a)\""))
        }
    }
}
