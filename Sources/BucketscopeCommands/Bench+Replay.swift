import TokenBucket
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `replay` with many distinct keys, run in a child process of its own (`bench` isolates it) so
/// the peak resident size is this benchmark's:
///
/// - `replay_per_key_1m_keys`: rows per second through `replay --per-key` of a log of 1,000,000
///   rows, each with a key never seen before (100 µs apart, cost 1 into buckets of 10 refilling
///   5/s, so a key's bucket is full again 0.2 s after its request and is dropped);
/// - `replay_per_key_1m_keys_peak_rss_mb`: the process's peak resident size (`VmHWM`, which a
///   fresh process image starts from zero), including the 27 MB input held in memory;
/// - `replay_per_key_1m_keys_held`: keys held at the end (the keys not yet full again);
/// - `replay_summary_bytes_per_key`: resident bytes per distinct key of `replay --summary` over
///   200,000 keys, each with 3 requests (key text included).
enum ReplayBenchmarks {
    static func perKeyMillionKeys() throws -> [BenchResult] {
        let rows = 1_000_000
        let fd = try temporaryLog(rows: rows) { i, text in
            ScaledDecimal.appendNano(Int64(i) * 100_000, to: &text)   // 100 µs apart
            text += Array(",key-".utf8)
            ScaledDecimal.appendInteger(Int64(i), to: &text)
            text += Array(",1\n".utf8)
        }
        defer { close(fd) }
        let config = try BucketConfiguration(capacity: 10, refillPerSecond: 5)
        var replayer = Replayer(configuration: config, perKey: true, summary: false)
        var reader = LineReader(fd: fd)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 17)
        var bytes = 0
        let start = monotonicNanos()
        while try reader.next({ line, number in try replayer.process(line: line, number: number, into: &out) }) != nil {
            if out.count >= 1 << 16 {
                bytes += out.count
                out.removeAll(keepingCapacity: true)
            }
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        blackHole(bytes)
        return [
            BenchResult(name: "replay_per_key_1m_keys", value: Double(rows) / seconds, unit: "rows/s, 1M distinct keys"),
            BenchResult(name: "replay_per_key_1m_keys_peak_rss_mb", value: peakResidentMegabytes(), unit: "MB, whole process"),
            BenchResult(name: "replay_per_key_1m_keys_held", value: Double(replayer.heldKeys), unit: "keys held at the end"),
        ]
    }

    static func summaryBytesPerKey() throws -> [BenchResult] {
        let keys = 200_000
        let fd = try temporaryLog(rows: keys * 3) { i, text in
            ScaledDecimal.appendNano(Int64(i) * 1_000_000, to: &text)
            text += Array(",key-".utf8)
            ScaledDecimal.appendInteger(Int64(i % keys), to: &text)
            text += Array(",1\n".utf8)
        }
        defer { close(fd) }
        releaseFreeHeapPages()
        let before = residentBytes()
        var replayer = Replayer(configuration: try BucketConfiguration(capacity: 10, refillPerSecond: 5), perKey: true, summary: true)
        var reader = LineReader(fd: fd)
        var out: [UInt8] = []
        while try reader.next({ line, number in try replayer.process(line: line, number: number, into: &out) }) != nil {}
        let after = residentBytes()
        blackHole(replayer)
        return [BenchResult(name: "replay_summary_bytes_per_key", value: Double(after - before) / Double(keys),
                            unit: "bytes/key, 200k keys, key text included")]
    }

    /// A log of `rows` rows written by `row` into an unlinked temporary file, rewound.
    private static func temporaryLog(rows: Int, _ row: (Int, inout [UInt8]) -> Void) throws -> Int32 {
        var template = Array("/tmp/bucketscope-bench-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CommandFailure("bench: cannot create a temporary file") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var text: [UInt8] = []
        text.reserveCapacity(1 << 20)
        func flush() {
            text.withUnsafeBytes { var o = 0; while o < $0.count { let n = write(fd, $0.baseAddress! + o, $0.count - o); if n <= 0 { break }; o += n } }
            text.removeAll(keepingCapacity: true)
        }
        for i in 0..<rows {
            row(i, &text)
            if text.count >= 1 << 20 { flush() }
        }
        flush()
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// The process's peak resident size (`VmHWM` in /proc/self/status), MB; 0 where unavailable.
    private static func peakResidentMegabytes() -> Double {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        guard n > 0 else { return 0 }
        for line in String(decoding: buf[0..<n], as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return (kb / 1024 * 10).rounded() / 10
        }
        return 0
    }
}
