import Foundation
import Testing

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let builtBinary = repositoryRoot.appendingPathComponent(".build/debug/bucketscope")

/// Mutates the example scenario files and seeded replay logs as a typo or a hostile file would,
/// and checks every case through the built binary: each exits 0 (accepted, and for scenarios
/// simulated for 2 s) or 2 (refused with a message), never by a signal, never hanging.
///
/// The cases run in child processes (`bucketscope check --simulate 2s FILE...`, a batch per
/// child), so a crash is detected as the child's death and pinned to its case by the lines
/// printed before it, instead of taking the test runner down. The seed is printed; set
/// BUCKETSCOPE_FUZZ_SEED to replay another.
@Suite("corpus fuzz", .serialized)
struct CorpusFuzzTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["BUCKETSCOPE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_130

    @Test func mutatedScenariosAndLogsExit0Or2AndNeverCrash() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: builtBinary.path),
                "build the binary first (swift build): \(builtBinary.path) is missing")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bucketscope-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var rng = FuzzRandom(state: Self.seed)
        let examples = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("scenarios").path)
            .filter { $0.hasSuffix(".toml") }.sorted()
            .map { try String(contentsOf: repositoryRoot.appendingPathComponent("scenarios/\($0)"), encoding: .utf8) }
        #expect(examples.count >= 4)

        var files: [String] = []
        for i in 0..<2_000 {
            let text = Mutator.scenario(examples[Int(rng.next() % UInt64(examples.count))], rng: &rng)
            let path = dir.appendingPathComponent("s\(i).toml").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data(text)))
            files.append(path)
        }
        for i in 0..<1_000 {
            let text = Mutator.replayLog(rng: &rng)
            let path = dir.appendingPathComponent("r\(i)\(i % 3 == 0 ? ".summary" : "").csv").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data(text)))
            files.append(path)
        }

        let start = ContinuousClock.now
        var outcomes: [String: Int] = ["ok": 0, "refused": 0]
        var crashes: [String] = []
        var next = 0
        while next < files.count {
            let batch = Array(files[next..<min(next + 500, files.count)])
            let run = try await offPool { try Self.check(batch) }
            let lines = run.out.split(separator: "\n")
            for line in lines { outcomes[line.hasSuffix(": ok") ? "ok" : "refused", default: 0] += 1 }
            if run.signal != nil || (run.status != 0 && run.status != 2) || lines.count < batch.count {
                // The case after the last line printed killed the child: record it, go on after it.
                let culprit = batch[min(lines.count, batch.count - 1)]
                let content = (try? String(contentsOfFile: culprit, encoding: .utf8)) ?? "?"
                crashes.append("\(culprit) (status \(run.status), signal \(run.signal.map(String.init) ?? "none")):\n\(content)")
                next += lines.count + 1
            } else {
                next += batch.count
            }
        }
        let elapsed = start.duration(to: .now)
        print("corpus fuzz: \(files.count) cases (2000 mutated scenarios, 1000 replay logs), seed \(Self.seed): "
              + "\(outcomes["ok"]!) accepted, \(outcomes["refused"]!) refused with a message, \(crashes.count) crashed, \(elapsed)")
        #expect(crashes.isEmpty, "\(crashes.prefix(3).joined(separator: "\n---\n"))")
        #expect(outcomes["ok"]! > 100)
        #expect(outcomes["refused"]! > 100)
        // About 20 s on an idle machine; the bound only catches a hang (each batch has its own
        // 300 s watchdog), not a loaded machine.
        #expect(elapsed < .seconds(1_200))
    }

    /// Runs `bucketscope check --simulate 2s --budget 20000` (2 simulated seconds, at most an
    /// estimated 20,000 requests: a debug build simulates ~50,000 a second) over `files` in a child process, killed after
    /// 300 s (a hang: a batch takes seconds, tens of seconds on a loaded machine).
    static func check(_ files: [String]) throws -> (status: Int32, signal: Int32?, out: String) {
        let p = Process()
        p.executableURL = builtBinary
        p.arguments = ["check", "--simulate", "2s", "--budget", "20000"] + files
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        let signal = p.terminationReason == .uncaughtSignal ? p.terminationStatus : nil
        return (p.terminationStatus, signal, String(decoding: data, as: UTF8.self))
    }
}

/// Seeded mutations of scenario text and replay logs: the kinds of damage issue 14 fuzzed with.
enum Mutator {
    static let numbers = ["0", "-1", "1e300", "-1e300", "1e-300", "1e-12", "1e-9", "9.3e9", "1e10", "1e12", "1e13",
                          "nan", "inf", "-inf", "3000000000", "100000000", "10000000", "1e9", "0.5", "2.5", "99999999999999999999",
                          "1_000", "0x10", "1e", "."]
    static let durations = ["\"1ns\"", "\"0s\"", "\"100000h\"", "\"8760h\"", "\"1e30h\"", "\"1us\"", "\"-5s\"", "\"5 parsecs\"",
                            "\"2m30s\"", "\"1.5s\"", "9e18", "\"\""]
    static let insertions = ["[é]\n", "[\n", "[[\n", "[ \u{1}]\n", "\u{0}", "\u{7F}", "é", "\"", "'", "[", "]", "=", "\n",
                             "[limit]\n", "[[clients]]\n", "\u{FEFF}", "\r", "#", "{", "}", ",", "\"\"\"", "[[clients]]\nname=\"z\"\nrate=1e9\n",
                             "[tuning]\nwindow=\"1ns\"\n", "[upstream]\nttft=[0, inf]\n", "count = 100000\n", "concurrency = 100000\n"]

    static func scenario(_ base: String, rng: inout FuzzRandom) -> [UInt8] {
        var lines = base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            guard !lines.isEmpty else { break }
            let i = Int(rng.next() % UInt64(lines.count))
            switch rng.next() % 7 {
            case 0, 1:   // a value replaced by an extreme number
                if let eq = lines[i].firstIndex(of: "=") {
                    lines[i] = lines[i][...eq] + " " + numbers[Int(rng.next() % UInt64(numbers.count))]
                }
            case 2:      // a value replaced by an extreme duration
                if let eq = lines[i].firstIndex(of: "=") {
                    lines[i] = lines[i][...eq] + " " + durations[Int(rng.next() % UInt64(durations.count))]
                }
            case 3:      // a line dropped or doubled
                if rng.next() % 2 == 0 { lines.remove(at: i) } else { lines.insert(lines[i], at: i) }
            default:     // text inserted somewhere in a line
                let ins = insertions[Int(rng.next() % UInt64(insertions.count))]
                var chars = Array(lines[i])
                chars.insert(contentsOf: ins, at: chars.isEmpty ? 0 : Int(rng.next() % UInt64(chars.count + 1)))
                lines[i] = String(chars)
            }
        }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        if rng.next() % 20 == 0, !bytes.isEmpty { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
        if rng.next() % 30 == 0 { bytes.insert(UInt8(rng.next() % 256), at: Int(rng.next() % UInt64(bytes.count + 1))) }
        return bytes
    }

    static let fields = ["9223372037", "9999999999", "1e10", "15e-10", "0.0000000015", "-0", "1e-12", "", "\"a\"\"b\"", "\"a,b\"",
                         "\"open", "1e300", "nan", "0", "-1", "1e12", "9.5e9", "1e9", "0.1", "time_s"]

    static func replayLog(rng: inout FuzzRandom) -> [UInt8] {
        var rows: [String] = rng.next() % 2 == 0 ? ["time_s,key,cost"] : []
        var t = 0
        for _ in 0..<(1 + Int(rng.next() % 40)) {
            t += Int(rng.next() % 3000)
            rows.append("\(t / 1000).\(t % 1000),k\(rng.next() % 6),\(1 + rng.next() % 7)")
        }
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let i = Int(rng.next() % UInt64(rows.count))
            var f = rows[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            switch rng.next() % 5 {
            case 0, 1, 2:
                if !f.isEmpty { f[Int(rng.next() % UInt64(f.count))] = fields[Int(rng.next() % UInt64(fields.count))] }
                rows[i] = f.joined(separator: ",")
            case 3:
                rows[i] += [",", "\r", "\"", ",x", "\u{FEFF}", "é"][Int(rng.next() % 6)]
            default:
                rows.insert(["", "# c", "\u{FEFF}0,a,1", ",,", "0,a,1,2"][Int(rng.next() % 5)], at: i)
            }
        }
        return Array(rows.joined(separator: rng.next() % 4 == 0 ? "\r\n" : "\n").utf8)
    }
}

/// SplitMix64: a small seeded generator for fuzz inputs.
struct FuzzRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
