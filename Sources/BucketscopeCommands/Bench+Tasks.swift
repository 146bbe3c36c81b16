import Fleet
import TokenBucket

/// Live mode's task driver at scale: the 10,000 closed-loop senders of ``liveBenchmarks()`` on
/// one shared bucket refilling 2,500/s (capacity 1, a provider that answers at once), where each
/// waiting request is a Swift task awaiting the library's `KeyedBuckets`: how many tasks wait in
/// the limiter at once (1–4 s), admissions per second (the refill is the ceiling), how long
/// after the limiter's admission instant an admission reaches the core, how late the pacing
/// task runs the core's own events, and how long `stop()` takes to cancel and await every
/// task.
func taskBenchmarks() async throws -> [BenchResult] {
    let scenario = tenThousandSenders(name: "10k-waiting-tasks")
    let run: Int64 = 4_000_000_000
    let fleet = try TaskFleet(scenario: scenario, seed: 1, window: run)
    var peak = 0
    var samples: [Int] = []
    let step: Int64 = 100_000_000
    var t = step
    while t <= run {
        try await Task.sleep(until: fleet.startedAt.advanced(by: .nanoseconds(t)), clock: .continuous)
        let w = fleet.waitingTasks
        peak = max(peak, w)
        if t == 1_000_000_000 { fleet.resetLateness() }
        if t >= 1_000_000_000 { samples.append(w) }
        t += step
    }
    let lateness = fleet.latenessPercentiles()
    let lag = fleet.admissionLagPercentiles()
    let stopping = ContinuousClock.now
    await fleet.stop()
    let stopTime = stopping.duration(to: .now)
    let admitted = fleet.report(duration: run).groups[0].admitted
    return [
        BenchResult(name: "tasks_waiters_10k_min_waiting_tasks", value: Double(samples.min() ?? 0), unit: "tasks (1–4 s)", goal: ">= 9900"),
        BenchResult(name: "tasks_waiters_10k_peak_waiting_tasks", value: Double(peak), unit: "tasks", goal: ""),
        BenchResult(name: "tasks_waiters_10k_admitted_per_s", value: Double(admitted) / 4, unit: "admissions/s", goal: "2500 (refill)"),
        BenchResult(name: "tasks_waiters_10k_p99_admission_lag", value: lag.p99, unit: "ms (1–4 s, task → core)", goal: ""),
        BenchResult(name: "tasks_waiters_10k_max_admission_lag", value: lag.max, unit: "ms (1–4 s)", goal: ""),
        BenchResult(name: "tasks_waiters_10k_p99_lateness", value: lateness.p99, unit: "ms (1–4 s, core events)", goal: ""),
        BenchResult(name: "tasks_waiters_10k_shutdown", value: Double(stopTime.components.seconds) * 1e3
                    + Double(stopTime.components.attoseconds) / 1e15, unit: "ms to cancel and await", goal: ""),
        BenchResult(name: "tasks_waiters_10k_waiting_after_stop", value: Double(fleet.waitingTasks), unit: "tasks", goal: "0"),
    ]
}
