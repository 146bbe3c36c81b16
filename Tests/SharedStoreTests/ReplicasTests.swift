@testable import SharedStore
import Synchronization
import Testing
import TokenBucket

@Suite("Two replicas sharing one limit")
struct ReplicasTests {
    static let config = try! BucketConfiguration(capacity: 5, refillPerSecond: 20)
    static let millisecond: Nanoseconds = 1_000_000

    /// Two replicas (own clients, own connections, as two processes) each offering a request
    /// every 10 ms for 10 s of test time, interleaved: 2,000 requests against a limit of 5 + 20/s.
    @Test("two replicas on one Redis admit b + r·T in total over 10 s (5 + 200), exactly")
    func sharedLimitHoldsAcrossReplicas() async throws {
        let prefix = uniquePrefix()
        let clients = [RedisServer.shared.client(), RedisServer.shared.client()]
        defer { clients.forEach { $0.shutdown() } }
        let replicas = clients.map { RedisBuckets(client: $0, prefix: prefix) }
        let limit = SharedLimit(key: "k", configuration: Self.config, cost: 1)
        var admitted = [0, 0]
        for step in 0..<1_000 {
            // Who asks first alternates, so both replicas meet fresh tokens.
            let order = step % 2 == 0 ? [0, 1] : [1, 0]
            for slot in 0..<2 {
                let r = order[slot]
                let at = epoch2026 + Nanoseconds(step) * 10 * Self.millisecond + Nanoseconds(slot) * Self.millisecond
                if try await replicas[r].acquire([limit], maxWait: 0, at: at).reservation != nil { admitted[r] += 1 }
            }
        }
        // The last request is at 9.991 s: 5 + 20 × 9.991 = 204.8 → 204 whole tokens, or 205
        // with the one refilled between the last two instants.
        #expect((204...205).contains(admitted[0] + admitted[1]), "admitted \(admitted)")
        #expect(admitted.allSatisfy { $0 > 50 }, "both replicas are served: \(admitted)")
    }

    @Test("the same two replicas with in-process buckets: twice the limit at full size, the limit at limit ÷ 2")
    func localBucketsMultiplyTheLimit() throws {
        for (replicas, expected) in [(1, 2 * 205), (2, 205)] {
            let local = [LocalBuckets(replicas: replicas), LocalBuckets(replicas: replicas)]
            let limit = SharedLimit(key: "k", configuration: Self.config, cost: 1)
            var admitted = 0
            for step in 0..<1_000 {
                for r in 0..<2 {
                    let at = Nanoseconds(step) * 10 * Self.millisecond + Nanoseconds(r) * Self.millisecond
                    if local[r].acquire([limit], maxWait: 0, at: at).reservations != nil { admitted += 1 }
                }
            }
            #expect(abs(admitted - expected) <= 2, "\(replicas == 1 ? "full size" : "limit ÷ 2"): admitted \(admitted), expected about \(expected)")
        }
    }

    /// On Redis' clock, with real concurrency: the claim is the upper bound (a starved machine
    /// may admit fewer, never more).
    @Test("two replicas hammering one limit on the server clock never admit more than b + r·T; real time")
    func sharedLimitOnServerClock() async throws {
        let prefix = uniquePrefix()
        let clients = [RedisServer.shared.client(), RedisServer.shared.client()]
        defer { clients.forEach { $0.shutdown() } }
        let replicas = clients.map { SharedLimiter(buckets: RedisBuckets(client: $0, prefix: prefix), policy: .closed) }
        let limit = SharedLimit(key: "k", configuration: Self.config, cost: 1)
        let start = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for replica in replicas {
                for _ in 0..<4 {   // 4 concurrent callers per replica
                    group.addTask {
                        // At least one attempt each, however late a starved machine starts
                        // this task: 8 first attempts are enough to take the burst of 5.
                        var admitted = 0
                        repeat {
                            if case .admitted = try await replica.acquire([limit], maxWait: .zero) { admitted += 1 }
                        } while ContinuousClock.now - start < .milliseconds(1_500)
                        return admitted
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - start
        let total = counts.reduce(0, +)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        #expect(Double(total) <= 5 + 20 * seconds + 2, "admitted \(total) in \(elapsed)")
        #expect(total >= 5, "the burst at least")
        #expect(replicas.allSatisfy { $0.statistics.storeFailures == 0 })
    }
}

@Suite("Redis stopped under load")
struct OutageUnderLoadTests {
    @Test("Redis killed and restarted under 8 concurrent callers: no call hangs, the store decides again once reached; real time")
    func outageUnderLoad() async throws {
        let port = RedisServer.freePort()
        let first = RedisServer.start(port: port)
        let client = RedisClient(RedisClientConfiguration(endpoint: first.endpoint, connections: 2, connectTimeout: .milliseconds(200),
                                                          commandTimeout: .milliseconds(200), maximumBackoff: .milliseconds(200)))
        defer { client.shutdown() }
        let limiter = SharedLimiter(buckets: RedisBuckets(client: client, prefix: uniquePrefix()), policy: .local(replicas: 2))
        let limit = SharedLimit(key: "k", configuration: try BucketConfiguration(capacity: 50, refillPerSecond: 100), cost: 1)
        let clock = ContinuousClock()
        let start = clock.now
        // Kill at 0.4 s, restart at 0.9 s, note the counters 1 s after the restart, and let the
        // callers run 0.8 s more (the callers stop then, or after 20 s on a starved machine).
        let endAt = InstantBox()
        let outage = Task { () -> (RedisServer, SharedLimiterStatistics, ContinuousClock.Instant) in
            try await Task.sleep(for: .milliseconds(400))
            first.stop()
            try await Task.sleep(for: .milliseconds(500))
            let second = RedisServer.start(port: port)
            // Recovery is noted 1 s after the limiter has reached the store again (not 1 s after
            // the restart: a loaded machine may take longer to get there).
            let restarted = clock.now
            while limiter.isStoreFailing, clock.now - restarted < .seconds(60) { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .seconds(1))
            let recovered = clock.now
            let statistics = limiter.statistics
            endAt.set(recovered + .milliseconds(800))
            return (second, statistics, recovered)
        }
        // Per call: when it ended, how long it took, whether the store decided it.
        let calls = try await withThrowingTaskGroup(of: [(ContinuousClock.Instant, Duration, Bool)].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var out: [(ContinuousClock.Instant, Duration, Bool)] = []
                    while clock.now - start < .seconds(20), endAt.isBefore(clock.now) == false {
                        let t = clock.now
                        let decision = try await limiter.acquire([limit], maxWait: .zero)
                        var shared = false
                        if case .admitted(let p) = decision { shared = p.isShared }
                        out.append((clock.now, clock.now - t, shared))
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return out
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let (second, atRecovery, recoveredAt) = try await outage.value
        defer { second.stop() }
        let final = limiter.statistics
        let slowest = calls.map(\.1).max() ?? .zero
        // Timeouts are 200 ms; the bound only catches a hang (a starved machine stalls for seconds).
        #expect(slowest < .seconds(30), "slowest call \(slowest) (timeouts 200 ms)")
        #expect(final.outages >= 1 && final.localByPolicy > 0, "\(final)")
        // From 1 s after the limiter reached the store again, the store decides every call: no more policy decisions,
        // and the store admitted some.
        #expect(final.localByPolicy == atRecovery.localByPolicy, "policy decisions after recovery: \(final) vs \(atRecovery)")
        #expect(final.admitted > atRecovery.admitted)
        #expect(calls.contains { $0.0 > recoveredAt && $0.2 })
        #expect(!limiter.isStoreFailing)
    }
}

/// An instant set by one task and read by others.
final class InstantBox: Sendable {
    private let value = Mutex<ContinuousClock.Instant?>(nil)
    func set(_ instant: ContinuousClock.Instant) { value.withLock { $0 = instant } }
    /// Whether the instant is set and `now` is past it.
    func isBefore(_ now: ContinuousClock.Instant) -> Bool { value.withLock { $0.map { $0 <= now } ?? false } }
}
