import Fleet
import Foundation
import TokenBucket

/// The fleet simulator's benchmarks, for `bucketscope bench` (build with `-c release`):
///
/// - `simulated_requests_per_s`: requests simulated per wall-clock second on one core, for
///   1,000 per-user-keyed Poisson clients (3 req/s each into buckets of 10 refilling 4/s, so
///   bursts wait; 10 s deadline) over a 6,667/s provider, 10 simulated minutes (1.8 million
///   requests).
/// - `sim_10k_clients_rss_mb_after_1h` / `..._after_24h` / `sim_24h_10k_clients_peak_mb`: memory
///   of a simulated day of 10,000 clients (one request every 50 s each, 17 million requests):
///   resident set after 1 h and after 24 h of simulated time, and the process's peak. Equal
///   figures after 1 h and 24 h show memory stays flat.
func fleetBenchmarks() async throws -> [BenchResult] {
    var results: [BenchResult] = []

    // Memory first, so the peak is this run's and not the throughput run's.
    let day = try Simulation(scenario: fleetBenchScenario(clients: 10_000, rate: 0.02, name: "bench-10k"), seed: 1)
    // Resident size sampled every simulated hour (the process's own high-water mark is no use
    // here: across exec, Linux carries over the parent's).
    let hour: Int64 = 3_600_000_000_000
    var samples: [Double] = []
    for h in 1...24 {
        day.run(until: Int64(h) * hour)
        samples.append(residentMegabytes())
    }
    results.append(BenchResult(name: "sim_10k_clients_rss_mb_after_1h", value: samples[0], unit: "MB"))
    results.append(BenchResult(name: "sim_10k_clients_rss_mb_after_24h", value: samples[23], unit: "MB"))
    results.append(BenchResult(name: "sim_24h_10k_clients_peak_mb", value: samples.max()!, unit: "MB, peak of hourly samples"))
    results.append(BenchResult(name: "sim_24h_10k_clients_requests", value: Double(day.requestsStarted), unit: "requests"))

    let sim = try Simulation(scenario: fleetBenchScenario(clients: 1_000, rate: 3, name: "bench-1k"), seed: 1)
    let clock = ContinuousClock()
    let start = clock.now
    sim.run(until: 600_000_000_000)
    let wall = start.duration(to: clock.now)
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    results.append(BenchResult(name: "simulated_requests_per_s", value: (Double(sim.requestsStarted) / seconds).rounded(),
                               unit: "requests/s"))
    results.append(try snapshotOfWaitingKeys())
    return results
}

/// What one dashboard frame's `snapshot()` costs when 10,000 keys each have requests waiting
/// (their waits so far count in every key's percentiles): 10,000 closed-loop users keeping 2
/// requests out on buckets of 1 refilling 0.2/s, after 30 simulated seconds; mean of 20 calls.
private func snapshotOfWaitingKeys() throws -> BenchResult {
    let scenario = Scenario(
        name: "10k-waiting-keys", keying: .perUser, limits: ClientLimits(perUser: BucketSpec(capacity: 1, refillPerSecond: 0.2)),
        clients: [ClientSpec(name: "user", group: "users", count: 10_000, arrival: .closedLoop(concurrency: 2, think: 0))],
        upstream: UpstreamSpec(name: "instant", ttft: 0...0))
    let sim = try Simulation(scenario: scenario, seed: 1)
    sim.run(until: 30_000_000_000)
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<20 { blackHole(sim.snapshot()) }
    let d = start.duration(to: clock.now)
    let micros = (Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / 20
    return BenchResult(name: "sim_snapshot_10k_waiting_keys", value: micros, unit: "µs per snapshot", goal: "< 50000 (one frame)")
}

/// Per-user buckets of 10 refilling 4/s under Poisson clients at `rate`, over a provider that
/// allows 6,667 requests/s (so the bench exercises waiting, the upstream and its 429s).
func fleetBenchScenario(clients: Int, rate: Double, name: String) -> Scenario {
    Scenario(name: name, keying: .perUser,
             limits: ClientLimits(perUser: BucketSpec(capacity: 10, refillPerSecond: 4)),
             clients: [ClientSpec(name: "user", group: "users", count: clients, arrival: .poisson(rate: rate),
                                  deadline: 10_000_000_000)],
             upstream: UpstreamSpec(limits: ProviderLimits(requestsPerMinute: 400_000), ttft: 0.05...0.2))
}

/// Resident set size now, MB (Linux `/proc/self/status` VmRSS; 0 where unavailable).
func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return (kb / 1024 * 10).rounded() / 10
    }
    return 0
}
