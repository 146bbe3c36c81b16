import Fleet
import TokenBucket

/// Live mode at scale: 10,000 closed-loop senders on one shared bucket refilling 2,500/s, with
/// a provider that answers at once, so about 10,000 requests wait at every instant and each is
/// sent again as soon as it is admitted. Measured over 4 s of real time with nobody reading the
/// fleet (the pacing task alone keeps it running): how late the pacing task runs the events it
/// wakes for (its timer and the executor), from 1 s on; the first second on its own; how many
/// wait at once; admissions per second; and how long `stop()` takes.
func liveBenchmarks() async throws -> [BenchResult] {
    let scenario = tenThousandSenders(name: "10k-waiters")
    let run: Int64 = 4_000_000_000
    let fleet = try LiveFleet(scenario: scenario, seed: 1, window: run)
    var peak = 0
    var startup = WaitPercentiles()
    var waitingSamples: [Int] = []
    let step: Int64 = 100_000_000
    var t = step
    while t <= run {
        try await Task.sleep(until: fleet.startedAt.advanced(by: .nanoseconds(t)), clock: .continuous)
        let w = fleet.metrics.keys[0].waiting
        peak = max(peak, w)
        if t == 1_000_000_000 {
            startup = fleet.latenessPercentiles()
            fleet.resetLateness()
        }
        if t >= 1_000_000_000 { waitingSamples.append(w) }
        t += step
    }
    let lateness = fleet.latenessPercentiles()
    let stopping = ContinuousClock.now
    await fleet.stop()
    let stopTime = stopping.duration(to: .now)
    let report = fleet.report(duration: run)
    let admitted = report.groups[0].admitted
    let minWaiting = waitingSamples.min() ?? 0
    return [
        BenchResult(name: "live_waiters_10k_p99_lateness", value: lateness.p99, unit: "ms (1–4 s)", goal: "<= 5 (wake − due)"),
        BenchResult(name: "live_waiters_10k_p50_lateness", value: lateness.p50, unit: "ms (1–4 s)", goal: ""),
        BenchResult(name: "live_waiters_10k_max_lateness", value: lateness.max, unit: "ms (1–4 s)", goal: ""),
        BenchResult(name: "live_waiters_10k_startup_p99_lateness", value: startup.p99, unit: "ms (0–1 s)", goal: ""),
        BenchResult(name: "live_waiters_10k_min_waiting", value: Double(minWaiting), unit: "requests (1–4 s)", goal: ">= 9900"),
        BenchResult(name: "live_waiters_10k_peak_waiting", value: Double(peak), unit: "requests", goal: ""),
        BenchResult(name: "live_waiters_10k_shutdown", value: Double(stopTime.components.seconds) * 1e3
                    + Double(stopTime.components.attoseconds) / 1e15, unit: "ms to stop", goal: ""),
        try await liveSnapshotCost(),
        BenchResult(name: "live_waiters_10k_admitted_per_s", value: Double(admitted) / 4, unit: "admissions/s", goal: "2500 (refill)"),
    ]
}

/// Both live drivers' scale benchmark: 10,000 closed-loop senders on one shared bucket of
/// capacity 1 refilling 2,500/s, with a provider that answers at once.
func tenThousandSenders(name: String) -> Scenario {
    Scenario(
        name: name, keying: .shared,
        limits: ClientLimits(shared: BucketSpec(capacity: 1, refillPerSecond: 2_500)),
        clients: [ClientSpec(name: "loop", group: "loop", arrival: .closedLoop(concurrency: 10_000, think: 0))],
        upstream: UpstreamSpec(name: "instant", ttft: 0...0))
}

/// What one dashboard frame's `snapshot()` costs on a live fleet of 1,000 per-user buckets
/// (1,000 clients sending 1/s), in microseconds: the mean of 100 calls, 10 ms apart.
private func liveSnapshotCost() async throws -> BenchResult {
    let scenario = Scenario(
        name: "1k-keys", keying: .perUser, limits: ClientLimits(perUser: BucketSpec(capacity: 10, refillPerSecond: 2)),
        clients: [ClientSpec(name: "user", group: "users", count: 1_000, arrival: .poisson(rate: 1))],
        upstream: UpstreamSpec(name: "instant", ttft: 0...0))
    let fleet = try LiveFleet(scenario: scenario, seed: 1)
    try await Task.sleep(for: .milliseconds(500))
    var total: Duration = .zero
    for _ in 0..<100 {
        let start = ContinuousClock.now
        blackHole(fleet.snapshot())
        total += start.duration(to: .now)
        try await Task.sleep(for: .milliseconds(10))
    }
    await fleet.stop()
    let micros = (Double(total.components.seconds) * 1e6 + Double(total.components.attoseconds) / 1e12) / 100
    return BenchResult(name: "live_snapshot_1k_keys", value: micros, unit: "µs per snapshot", goal: "< 50000 (one frame)")
}
