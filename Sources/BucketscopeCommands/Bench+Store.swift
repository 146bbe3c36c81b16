import Foundation
import SharedStore
import TokenBucket

/// The shared store on a local redis-server: admissions per second and latency through
/// `RedisBuckets.acquire` (one `EVALSHA` of the GCRA script each), one caller at a time and
/// pipelined (64 callers on one connection), beside `redis-benchmark` running a trivial
/// `EVALSHA` (`return 1`) and the GCRA script itself on the same server.
///
/// Redis: `BUCKETSCOPE_REDIS_URL` when set, else a redis-server started here on a free loopback
/// port with persistence off and stopped at the end. Without redis-server the benchmark says
/// so on stderr and reports nothing.
func storeBenchmarks() async throws -> [BenchResult] {
    let redis: ScratchRedis
    do { redis = try ScratchRedis() } catch {
        printError("bench: store benchmarks skipped: \(error)")
        return []
    }
    defer { redis.stop() }
    let client = RedisClient(RedisClientConfiguration(endpoint: redis.endpoint, connections: 1, commandTimeout: .seconds(2)))
    defer { client.shutdown() }
    let buckets = RedisBuckets(client: client, prefix: "bench:\(getpid()):")
    // Large buckets so every call is admitted at once and does the full write path; 1,000 keys.
    let config = try BucketConfiguration(capacity: 1e9, refillPerSecond: 1e6)
    let tpm = try BucketConfiguration(capacity: 1e9, refillPerSecond: 1e6)
    func limits(_ i: Int, two: Bool) -> [SharedLimit] {
        let rpm = SharedLimit(key: "u\(i % 1_000):rpm", configuration: config, cost: 1)
        return two ? [rpm, SharedLimit(key: "t\(i % 10):tpm", configuration: tpm, cost: 1_500)] : [rpm]
    }
    // Warm up: load the script, open the connection.
    for i in 0..<500 { _ = try await buckets.acquire(limits(i, two: false), maxWait: 0) }

    func measure(calls: Int, callers: Int, two: Bool) async throws -> (perSecond: Double, p50: Double, p99: Double) {
        let start = monotonicNanos()
        let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for c in 0..<callers {
                group.addTask {
                    var mine: [Int64] = []
                    mine.reserveCapacity(calls / callers)
                    for k in 0..<(calls / callers) {
                        let t = monotonicNanos()
                        guard case .admitted = try await buckets.acquire(limits(c * 7919 + k, two: two), maxWait: 0) else {
                            throw CommandFailure("bench: a store admission was refused")
                        }
                        mine.append(monotonicNanos() - t)
                    }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let elapsed = Double(monotonicNanos() - start) / 1e9
        func pct(_ q: Double) -> Double { Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))]) / 1e3 }
        return (Double(latencies.count) / elapsed, pct(0.50), pct(0.99))
    }

    var results: [BenchResult] = []
    let sequential = try await measure(calls: 10_000, callers: 1, two: false)
    results += [
        BenchResult(name: "store_admissions_per_s_sequential", value: sequential.perSecond, unit: "admissions/s (1 caller)"),
        BenchResult(name: "store_admission_p50_sequential", value: sequential.p50, unit: "µs"),
        BenchResult(name: "store_admission_p99_sequential", value: sequential.p99, unit: "µs"),
    ]
    let pipelined = try await measure(calls: 40_000, callers: 64, two: false)
    results += [
        BenchResult(name: "store_admissions_per_s_pipelined", value: pipelined.perSecond, unit: "admissions/s (64 callers, 1 conn)"),
        BenchResult(name: "store_admission_p50_pipelined", value: pipelined.p50, unit: "µs"),
        BenchResult(name: "store_admission_p99_pipelined", value: pipelined.p99, unit: "µs"),
    ]
    let two = try await measure(calls: 40_000, callers: 64, two: true)
    results += [
        BenchResult(name: "store_admissions_per_s_two_limits", value: two.perSecond, unit: "admissions/s (RPM+TPM, pipelined)"),
        BenchResult(name: "store_admission_p99_two_limits", value: two.p99, unit: "µs"),
    ]

    // redis-benchmark on the same server: a trivial script, then the GCRA script itself.
    guard let trivial = try await client.send(["SCRIPT", "LOAD", "return 1"]).string,
          let gcra = try await client.send(["SCRIPT", "LOAD", GCRAScripts.acquire]).string else {
        throw CommandFailure("bench: SCRIPT LOAD failed")
    }
    let scaled = ["1000000", "1", "1000000000000000000", "1000000000000", "0", "1000", "0"]
    let runs: [(String, [String], [String])] = [
        ("redis_benchmark_evalsha_trivial_sequential", ["-c", "1", "-n", "20000"], ["EVALSHA", trivial, "0"]),
        ("redis_benchmark_evalsha_trivial_pipelined", ["-c", "1", "-P", "64", "-n", "200000"], ["EVALSHA", trivial, "0"]),
        ("redis_benchmark_evalsha_gcra_sequential", ["-c", "1", "-n", "20000"], ["EVALSHA", gcra, "1", "bench:rb", "", "0"] + scaled),
        ("redis_benchmark_evalsha_gcra_pipelined", ["-c", "1", "-P", "64", "-n", "200000"], ["EVALSHA", gcra, "1", "bench:rb", "", "0"] + scaled),
    ]
    for (name, options, command) in runs {
        guard let figures = redisBenchmark(port: redis.endpoint.port, options: options, command: command) else {
            printError("bench: redis-benchmark not found or failed; its figures are missing")
            break
        }
        results += [
            BenchResult(name: name + "_per_s", value: figures.perSecond, unit: "calls/s"),
            BenchResult(name: name + "_p50", value: figures.p50 * 1000, unit: "µs"),
            BenchResult(name: name + "_p99", value: figures.p99 * 1000, unit: "µs"),
        ]
    }
    return results
}

/// Runs `redis-benchmark --csv` and reads requests per second and p50/p99 latency (ms).
private func redisBenchmark(port: Int, options: [String], command: [String]) -> (perSecond: Double, p50: Double, p99: Double)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "--csv"] + options + command
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    guard let row = String(decoding: data, as: UTF8.self).split(separator: "\n").last else { return nil }
    let fields = row.split(separator: ",").map { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
    guard fields.count >= 8, let rps = fields[1], let p50 = fields[4], let p99 = fields[6] else { return nil }
    return (rps, p50, p99)
}

/// A redis-server for the benchmark: `BUCKETSCOPE_REDIS_URL`, or one started on a free loopback
/// port (no persistence) and killed by ``stop()``.
private struct ScratchRedis {
    let endpoint: RedisEndpoint
    let process: Process?

    init() throws {
        if let url = ProcessInfo.processInfo.environment["BUCKETSCOPE_REDIS_URL"], !url.isEmpty {
            endpoint = try RedisEndpoint(url)
            process = nil
            return
        }
        let port = Int.random(in: 20_000...60_000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                       "--daemonize", "no", "--loglevel", "warning"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        endpoint = RedisEndpoint(host: "127.0.0.1", port: port)
        process = p
        for _ in 0..<100 {
            usleep(50_000)
            guard p.isRunning else { throw CommandFailure("redis-server exited at once (port \(port) taken, or not installed)") }
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(s)
            if connected == 0 { return }
        }
        p.terminate()
        throw CommandFailure("redis-server did not start on port \(port)")
    }

    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
