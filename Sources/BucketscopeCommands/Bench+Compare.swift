import Foundation
import TokenBucket
#if canImport(Glibc)
import Glibc
#endif

extension Benchmarks {
    /// Where the Azure conversation trace may be: `$BUCKETSCOPE_AZURE_CONVERSATION` when set,
    /// else the project's shared data folder beside the checkout (or beside a worktree folder).
    static var azureConversationPaths: [String] {
        if let path = ProcessInfo.processInfo.environment["BUCKETSCOPE_AZURE_CONVERSATION"] { return [path] }
        return ["../shared/data/azure-llm-2023/conversation.csv", "../../shared/data/azure-llm-2023/conversation.csv"]
    }

    /// `compare` over the Azure LLM inference trace 2023, conversation (19,366 requests; CC-BY
    /// 4.0, Patel et al., "Splitwise", ISCA 2024; Azure Public Dataset), with every algorithm, through
    /// the real command path: read the replay log, feed seven algorithms, render the table. The
    /// trace is converted as the README's awk line does (one key, cost = prompt + completion).
    /// Without the trace file, a seeded synthetic trace of the same size is measured instead,
    /// under another name.
    static func compareThroughput() throws -> [BenchResult] {
        var rows: [UInt8] = Array("time_s,key,cost\n".utf8)
        var count = 0
        let trace = azureConversationPaths.first { FileManager.default.isReadableFile(atPath: $0) }
        if let trace, let text = try? String(contentsOfFile: trace, encoding: .utf8) {
            var first: Int64?
            for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).dropFirst() {
                // 2023-11-16 18:15:46.6805900,374,44 → seconds of the day, then from the first row.
                let f = line.split(separator: ",")
                guard f.count == 3, let space = f[0].firstIndex(of: " "),
                      let prompt = Int64(f[1]), let completion = Int64(f[2]) else { continue }
                let hms = f[0][f[0].index(after: space)...].split(separator: ":")
                guard hms.count == 3, let h = Int64(hms[0]), let m = Int64(hms[1]),
                      let s = ScaledDecimal.parseNano(Array(hms[2].utf8)) else { continue }
                let t = (h * 3600 + m * 60) * 1_000_000_000 + s
                let t0 = first ?? t
                first = t0
                ScaledDecimal.appendNano(t - t0, to: &rows)
                rows += Array(",conversation,".utf8)
                ScaledDecimal.appendInteger(prompt + completion, to: &rows)
                rows.append(10)
                count += 1
            }
        } else {
            // 19,366 requests at 5.5/s on average (exponential gaps), costs 50 to 4,000 tokens.
            var rng = BenchRandom(state: 11)
            var t: Int64 = 0
            for _ in 0..<19_366 {
                t += Int64(-log(1 - Double(rng.next() % 1_000_000) / 1_000_000) / 5.5 * 1e9)
                ScaledDecimal.appendNano(t, to: &rows)
                rows += Array(",conversation,".utf8)
                ScaledDecimal.appendInteger(Int64(50 + rng.next() % 3_951), to: &rows)
                rows.append(10)
                count += 1
            }
        }
        let path = "/tmp/bucketscope-bench-compare-\(getpid()).csv"
        try Data(rows).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }

        var best = Double.infinity
        for _ in 0..<5 {
            let start = monotonicNanos()
            let command = try CompareCommand.parse(["--replay", path, "--rate", "6000", "--burst", "60000"])
            let out = try CompareRequest(command).execute()
            best = min(best, Double(monotonicNanos() - start) / 1e9)
            blackHole(out.count)
        }
        let name = trace != nil ? "compare_azure_conversation_s" : "compare_synthetic_19366_s"
        let unit = trace != nil ? "s, \(count) rows" : "s, synthetic (no trace)"
        return [
            BenchResult(name: name, value: best, unit: unit, goal: "<= 0.5"),
            BenchResult(name: "compare_rows_per_s", value: Double(count) / best, unit: "rows/s, 7 algorithms", goal: ""),
        ]
    }
}
