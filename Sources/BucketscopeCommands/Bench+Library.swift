#if canImport(Glibc)
import Glibc
#endif
import TokenBucket

/// The library's figures: one bucket, 100,000 keys, memory per key, 10,000 waiters.
enum LibraryBenchmarks {
    /// `tryAcquire` on one thread-safe `Bucket`, clock read included.
    static func tryAcquire() throws -> [BenchResult] {
        let bucket = try Bucket(capacity: 1e9, refillPerSecond: 1e9)
        let n = 5_000_000
        var admitted = 0
        let ns = nanosPerOp(operations: n) {
            for _ in 0..<n where (try? bucket.tryAcquire(1)) == true { admitted += 1 }
        }
        blackHole(admitted)
        // And the pure value type with the time passed in (what the simulator and replay use).
        var state = try BucketState(capacity: 1e9, refillPerSecond: 1e9)
        var t: Nanoseconds = 0
        let units = TokenUnits.units(1)
        let pure = nanosPerOp(operations: n) {
            for _ in 0..<n {
                t &+= 20
                if state.tryAcquire(units: units, at: t) { admitted += 1 }
            }
        }
        blackHole(admitted)
        // The clock reads alone, for scale: the OS clock, and the TSC-backed one the bucket uses.
        let clock = ContinuousClock()
        var last = clock.now
        let clockNs = nanosPerOp(operations: n) {
            for _ in 0..<n { last = clock.now }
        }
        blackHole(last)
        var fast: Int64 = 0
        let fastNs = nanosPerOp(operations: n) {
            for _ in 0..<n { fast &+= FastClock.nanoseconds() }
        }
        blackHole(fast)
        // The same two loops timed in this thread's CPU time (short rounds, the best kept):
        // on a machine shared with other work, wall time also counts the time spent waiting
        // for a core.
        let cpuNs = cpuNanosPerOp(operations: 200_000) {
            for _ in 0..<200_000 where (try? bucket.tryAcquire(1)) == true { admitted += 1 }
        }
        let fastCPUNs = cpuNanosPerOp(operations: 200_000) {
            for _ in 0..<200_000 { fast &+= FastClock.nanoseconds() }
        }
        blackHole(admitted)
        blackHole(fast)
        return [
            BenchResult(name: "try_acquire", value: ns, unit: "ns/op", goal: "<= 12"),
            BenchResult(name: "try_acquire_cpu", value: cpuNs, unit: "ns/op of thread CPU time (best of 40 rounds of 200,000)", goal: ""),
            BenchResult(name: "fast_clock_read_cpu", value: fastCPUNs, unit: "ns/op of thread CPU time", goal: ""),
            BenchResult(name: "clock_read", value: clockNs, unit: "ns/op, ContinuousClock.now", goal: ""),
            BenchResult(name: "fast_clock_read", value: fastNs,
                        unit: FastClock.isTSCBacked ? "ns/op, FastClock (TSC)" : "ns/op, FastClock (no usable TSC: ContinuousClock)", goal: ""),
            BenchResult(name: "state_try_acquire", value: pure, unit: "ns/op, time passed in", goal: ""),
        ]
    }

    /// `tryAcquire` on a random key among 100,000 String keys of a thread-safe `KeyedBuckets`.
    static func keyed() throws -> [BenchResult] {
        let keyCount = 100_000
        let keys = (0..<keyCount).map { "user-\($0)" }
        let buckets = try KeyedBuckets<String>(capacity: 100, refillPerSecond: 10)
        for k in keys { _ = try buckets.tryAcquire(1, for: k) }
        var rng = BenchRandom(state: 42)
        let n = 2_000_000
        let order = (0..<n).map { _ in Int(rng.next() % UInt64(keyCount)) }
        var admitted = 0
        let ns = nanosPerOp(operations: n) {
            for i in order where (try? buckets.tryAcquire(1, for: keys[i])) == true { admitted += 1 }
        }
        blackHole(admitted)
        return [BenchResult(name: "keyed_try_acquire_100k", value: ns, unit: "ns/op", goal: "<= 80")]
    }

    /// What a server pays the library per request on its quick path: `tryTake` (the cost and
    /// the level left, one lock) then `settle` of an estimate against real usage (refund or
    /// charge and the level after, one lock), on a random key among 100,000 String keys.
    static func keyedRequest() throws -> [BenchResult] {
        let keyCount = 100_000
        let keys = (0..<keyCount).map { "user-\($0)" }
        let buckets = try KeyedBuckets<String>(capacity: 1_000_000, refillPerSecond: 1_000_000)
        for k in keys { _ = try buckets.tryTake(1, for: k) }
        var rng = BenchRandom(state: 7)
        let n = 1_000_000
        let order = (0..<n).map { _ in (Int(rng.next() % UInt64(keyCount)), Double(rng.next() % 40)) }
        var level = 0.0
        let ns = nanosPerOp(operations: n) {
            for (i, used) in order {
                guard let left = try? buckets.tryTake(20, for: keys[i]) else { continue }
                level += left
                level += (try? buckets.settle(reserved: 20, used: used, for: keys[i])) ?? 0
            }
        }
        blackHole(level)
        // Keys this fast to refill are full again (and dropped) within microseconds, so this
        // also times the held-key table's insertions and sweeps.
        return [BenchResult(name: "keyed_take_and_settle_100k", value: ns, unit: "ns per request (tryTake + settle)", goal: "")]
    }

    /// Resident memory per key with 1,000,000 keys held (each bucket partly drained, so none is
    /// evictable), keys included.
    ///
    /// The registry is built twice and measured the second time: the first build leaves the
    /// tables it outgrew (and the sweeps' copies) free but resident in the allocator, which a
    /// resident-size delta would count as held (about 34 bytes per key more).
    static func bytesPerKey() throws -> [BenchResult] {
        let keyCount = 1_000_000
        func build() throws -> KeyedBuckets<String> {
            let buckets = try KeyedBuckets<String>(capacity: 100, refillPerSecond: 0.001)
            for i in 0..<keyCount { _ = try buckets.tryAcquire(50, for: "user-" + String(i)) }
            precondition(buckets.count == keyCount)
            return buckets
        }
        blackHole(try build())
        releaseFreeHeapPages()
        let before = residentBytes()
        let buckets = try build()
        let after = residentBytes()
        blackHole(buckets)
        return [BenchResult(name: "bytes_per_key_1m", value: Double(after - before) / Double(keyCount),
                            unit: "bytes/key", goal: "<= 100")]
    }

    /// 10,000 tasks wait on one bucket; p99 of (resume time − admission time).
    static func waiters() async throws -> [BenchResult] {
        let count = 10_000
        // Capacity 1 and 10,000/s: admissions spread evenly over one second. A debt of 3,000
        // tokens holds the first admission 300 ms back, so all 10,000 tasks are waiting before
        // it (spawning them takes ~50 ms) and what is measured is the waiters' lateness, not
        // the spawner's.
        let bucket = try Bucket(capacity: 1, refillPerSecond: 10_000)
        try bucket.charge(3_000)
        let lateness = try await withThrowingTaskGroup(of: Duration.self) { group in
            for _ in 0..<count {
                group.addTask { try await bucket.acquire(1).lateness }
            }
            var all: [Duration] = []
            all.reserveCapacity(count)
            for try await l in group { all.append(l) }
            return all
        }
        let ms = lateness.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
        return [
            BenchResult(name: "waiters_10k_p99_lateness", value: ms[Int(Double(count) * 0.99) - 1], unit: "ms", goal: "<= 2"),
            BenchResult(name: "waiters_10k_max_lateness", value: ms.last!, unit: "ms", goal: ""),
        ]
    }

    /// 10,000 tasks waiting over 100 keys of a `KeyedBuckets` (100 per key, each key's
    /// admissions spread over one second); p99 of (resume time − admission time).
    static func keyedWaiters() async throws -> [BenchResult] {
        let keys = (0..<100).map { "user-\($0)" }
        let buckets = try KeyedBuckets<String>(capacity: 1, refillPerSecond: 100)
        // A debt of 30 tokens per key holds the first admissions 300 ms back, so all tasks are
        // waiting before any is due (what is measured is the waiters' lateness).
        for k in keys { try buckets.charge(30, for: k) }
        let ms = try await withThrowingTaskGroup(of: Duration.self) { group in
            for i in 0..<10_000 {
                let key = keys[i % keys.count]
                group.addTask { try await buckets.acquire(1, for: key).lateness }
            }
            var all: [Duration] = []
            for try await l in group { all.append(l) }
            return all
        }.map(milliseconds).sorted()
        return [
            BenchResult(name: "keyed_waiters_10k_p99_lateness", value: ms[Int(Double(ms.count) * 0.99) - 1], unit: "ms, 100 keys",
                        goal: "<= 2"),
            BenchResult(name: "keyed_waiters_10k_max_lateness", value: ms.last!, unit: "ms", goal: ""),
        ]
    }

    /// 10,000 tasks waiting on one `LLMLimiter` (admissions spread over one second); p99 of
    /// (time `acquire` returned − admission time).
    static func llmWaiters() async throws -> [BenchResult] {
        let limiter = LLMLimiter(try LLMLimits(tokens: BucketConfiguration(capacity: 1, refillPerSecond: 10_000)))
        let request = try LLMRequest(promptTokens: 1, maxOutputTokens: 0)
        // Charge 3,000 tokens of debt (a response that used far more than estimated): the
        // first admission comes 300 ms later, after every task is waiting.
        let first = try await limiter.acquire(request)
        try limiter.reconcile(first, inputTokens: 1, outputTokens: 3_000)
        let ms = try await withThrowingTaskGroup(of: Duration.self) { group in
            for _ in 0..<10_000 {
                group.addTask {
                    let r = try await limiter.acquire(request)
                    return .nanoseconds(limiter.now - r.admitAt)
                }
            }
            var all: [Duration] = []
            for try await l in group { all.append(l) }
            return all
        }.map(milliseconds).sorted()
        return [
            BenchResult(name: "llm_waiters_10k_p99_lateness", value: ms[Int(Double(ms.count) * 0.99) - 1], unit: "ms", goal: "<= 2"),
            BenchResult(name: "llm_waiters_10k_max_lateness", value: ms.last!, unit: "ms", goal: ""),
        ]
    }

    /// 10,000 waiters over 100 keys cancelled in arrival order (head first): the time until
    /// every task has returned, and how far any key's level is from where it stood before the
    /// waiters came (plus refill): every token given back means 0.
    static func keyedCancel() async throws -> [BenchResult] {
        let keys = (0..<100).map { "user-\($0)" }
        let refill = 0.001
        let buckets = try KeyedBuckets<String>(capacity: 1, refillPerSecond: refill)
        for k in keys { _ = try buckets.tryAcquire(1, for: k) }
        let before = keys.map { buckets.tokens(for: $0) }
        let t0 = buckets.now
        var tasks: [Task<Void, Never>] = []
        for i in 0..<10_000 {
            let key = keys[i % keys.count]
            tasks.append(Task { _ = try? await buckets.acquire(1, for: key) })
            // Queue them in creation order, so "head first" is the queues' order.
            while buckets.waiting < i + 1 { await Task.yield() }
        }
        let cpuBefore = processCPUSeconds()
        let start = ContinuousClock.now
        for t in tasks { t.cancel() }
        let cancelled = start.duration(to: .now)
        for t in tasks { await t.value }
        let took = start.duration(to: .now)
        let cpu = processCPUSeconds() - cpuBefore
        let refilled = Double(buckets.now - t0) / 1e9 * refill
        var worst = 0.0
        for (k, b) in zip(keys, before) { worst = max(worst, abs(buckets.tokens(for: k) - min(1, b + refilled))) }
        precondition(buckets.waiting == 0)
        return [
            BenchResult(name: "keyed_cancel_10k", value: milliseconds(took), unit: "ms, cancel and await 10,000 keyed waiters", goal: ""),
            BenchResult(name: "keyed_cancel_10k_cancel_calls", value: milliseconds(cancelled), unit: "ms, the 10,000 Task.cancel() calls alone",
                        goal: ""),
            BenchResult(name: "keyed_cancel_10k_cpu", value: cpu * 1000,
                        unit: "ms of process CPU time over the same span (well below it: the process waited for a core)", goal: ""),
            BenchResult(name: "keyed_cancel_10k_tokens_error", value: worst, unit: "tokens, max over keys (0 = all given back)",
                        goal: "<= 0.000001"),
        ]
    }

    /// Best of `rounds` runs of `body`, in nanoseconds of this thread's CPU time per operation.
    static func cpuNanosPerOp(operations: Int, rounds: Int = 40, _ body: () -> Void) -> Double {
        func threadCPU() -> Int64 {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = threadCPU()
            body()
            best = Swift.min(best, Double(threadCPU() - start) / Double(operations))
        }
        return best
    }

    /// User + system CPU time of the whole process so far, in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
