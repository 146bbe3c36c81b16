import TokenBucket
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every benchmark `bucketscope bench` runs, in order.
enum Benchmarks {
    static var all: [Benchmark] {
        [
            Benchmark(name: "try_acquire", run: { try LibraryBenchmarks.tryAcquire() }),
            Benchmark(name: "keyed_try_acquire_100k", run: { try LibraryBenchmarks.keyed() }),
            Benchmark(name: "keyed_take_and_settle_100k", run: { try LibraryBenchmarks.keyedRequest() }),
            Benchmark(name: "bytes_per_key_1m", isolated: true, run: { try LibraryBenchmarks.bytesPerKey() }),
            Benchmark(name: "waiters_10k_p99_lateness", run: { try await LibraryBenchmarks.waiters() }),
            Benchmark(name: "keyed_waiters_10k_p99_lateness", run: { try await LibraryBenchmarks.keyedWaiters() }),
            Benchmark(name: "llm_waiters_10k_p99_lateness", run: { try await LibraryBenchmarks.llmWaiters() }),
            Benchmark(name: "keyed_cancel_10k", run: { try await LibraryBenchmarks.keyedCancel() }),
            Benchmark(name: "replay_rows_per_s", run: { try replayThroughput() }),
            Benchmark(name: "replay_per_key_1m_keys", isolated: true, run: { try ReplayBenchmarks.perKeyMillionKeys() }),
            Benchmark(name: "replay_summary_bytes_per_key", isolated: true, run: { try ReplayBenchmarks.summaryBytesPerKey() }),
            Benchmark(name: "compare_azure_conversation_s", run: { try compareThroughput() }),
            Benchmark(name: "simulated_requests_per_s", isolated: true, run: { try await fleetBenchmarks() }),
            Benchmark(name: "live_waiters_10k_p99_lateness", isolated: true, run: { try await liveBenchmarks() }),
            Benchmark(name: "tasks_waiters_10k_min_waiting_tasks", isolated: true, run: { try await taskBenchmarks() }),
            Benchmark(name: "store_admissions_per_s", run: { try await storeBenchmarks() }),
        ]
    }

    /// Goals from the issues, for the table.
    static let goals: [String: String] = [
        "try_acquire": "<= 12", "keyed_try_acquire_100k": "<= 80", "bytes_per_key_1m": "<= 100",
        "waiters_10k_p99_lateness": "<= 2", "keyed_waiters_10k_p99_lateness": "<= 2", "llm_waiters_10k_p99_lateness": "<= 2", "replay_rows_per_s": ">= 500000",
        "replay_per_key_1m_keys_peak_rss_mb": "flat (input 27 MB)", "replay_summary_bytes_per_key": "a few hundred",
        "simulated_requests_per_s": ">= 2000000", "live_waiters_10k_p99_lateness": "<= 5",
    ]

    /// Rows per second through the real `replay` path (parse, bucket, format), from a file.
    static func replayThroughput() throws -> [BenchResult] {
        let rows = 1_000_000
        var text: [UInt8] = []
        text.reserveCapacity(rows * 24)
        text += Array("time_s,key,cost\n".utf8)
        var rng = BenchRandom(state: 7)
        for i in 0..<rows {
            // 1 ms apart, 1,000 keys, costs 0.5 to 8 tokens.
            ScaledDecimal.appendNano(Int64(i) * 1_000_000, to: &text)
            text += Array(",user-".utf8)
            ScaledDecimal.appendInteger(Int64(rng.next() % 1000), to: &text)
            text.append(UInt8(ascii: ","))
            ScaledDecimal.appendInteger(Int64(1 + rng.next() % 8), to: &text)
            text += [UInt8(ascii: "."), UInt8(ascii: "5"), 10]
        }
        var template = Array("/tmp/bucketscope-bench-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CommandFailure("bench: cannot create a temporary file") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(fd) }
        text.withUnsafeBytes { var o = 0; while o < $0.count { let n = write(fd, $0.baseAddress! + o, $0.count - o); if n <= 0 { break }; o += n } }

        func run(perKey: Bool) throws -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                lseek(fd, 0, SEEK_SET)
                var bytes = 0
                let start = monotonicNanos()
                try ReplayCommand.replay(configuration: try BucketConfiguration(capacity: 10, refillPerSecond: 5),
                                         perKey: perKey, summary: false, input: fd) { bytes += $0.count }
                best = min(best, Double(monotonicNanos() - start))
                blackHole(bytes)
            }
            return Double(rows) / (best / 1e9)
        }
        return [
            BenchResult(name: "replay_rows_per_s", value: try run(perKey: false), unit: "rows/s", goal: ">= 500000"),
            BenchResult(name: "replay_per_key_rows_per_s", value: try run(perKey: true), unit: "rows/s, 1,000 keys", goal: ""),
        ]
    }
}
