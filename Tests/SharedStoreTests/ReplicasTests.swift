import SharedStore
import Synchronization
import Testing
import TokenBucket

@Suite("Two replicas sharing one limit")
struct ReplicasTests {
    /// Each replica has its own client (its own connections), as two processes would.
    @Test("two replicas hammering one limit for 1.5 s admit b + r·T in total (±1 per replica), not 2×; real time")
    func sharedLimitHoldsAcrossReplicas() async throws {
        let prefix = uniquePrefix()
        let config = try BucketConfiguration(capacity: 5, refillPerSecond: 20)
        let clients = [RedisServer.shared.client(), RedisServer.shared.client()]
        defer { clients.forEach { $0.shutdown() } }
        let replicas = clients.map { SharedLimiter(buckets: RedisBuckets(client: $0, prefix: prefix), policy: .closed) }
        let limit = SharedLimit(key: "k", configuration: config, cost: 1)
        // Both replicas start together after a first call each (connections open, script loaded)
        // on a fresh key; the window is measured on Redis' clock through the admissions.
        let window: Duration = .milliseconds(1_500)
        let start = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for replica in replicas {
                for _ in 0..<4 {   // 4 concurrent callers per replica
                    group.addTask {
                        var admitted = 0
                        while ContinuousClock.now - start < window {
                            if case .admitted = try await replica.acquire([limit], maxWait: .zero) { admitted += 1 }
                        }
                        return admitted
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - start
        let total = counts.reduce(0, +)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // Over the window (a little longer than 1.5 s as the last calls finish): b + r·T.
        let expected = 5 + 20 * seconds
        #expect(Double(total) <= expected + 2, "admitted \(total) in \(elapsed), expected at most \(expected) + 2")
        // The lower bound only says the store keeps admitting (a loaded machine may start the
        // callers late); the upper bound is the claim.
        #expect(Double(total) >= 0.75 * (5 + 20 * 1.5), "admitted \(total): the shared bucket must admit its rate")
        #expect(replicas.allSatisfy { $0.statistics.storeFailures == 0 })
    }

    @Test("the same two replicas with local full-size buckets (no store) admit about twice as much; real time")
    func localBucketsMultiplyTheLimit() async throws {
        let config = try BucketConfiguration(capacity: 5, refillPerSecond: 20)
        let nowhere = RedisEndpoint(host: "127.0.0.1", port: RedisServer.freePort())
        let clients = (0..<2).map { _ in RedisClient(RedisClientConfiguration(endpoint: nowhere, initialBackoff: .seconds(10))) }
        defer { clients.forEach { $0.shutdown() } }
        // local(replicas: 1): each replica's bucket has the whole limit, as in-process buckets do.
        let replicas = clients.map { SharedLimiter(buckets: RedisBuckets(client: $0), policy: .local(replicas: 1)) }
        let limit = SharedLimit(key: "k", configuration: config, cost: 1)
        let start = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for replica in replicas {
                group.addTask {
                    var admitted = 0
                    while ContinuousClock.now - start < .milliseconds(1_500) {
                        if case .admitted = try await replica.acquire([limit], maxWait: .zero) { admitted += 1 }
                        await Task.yield()
                    }
                    return admitted
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let total = counts.reduce(0, +)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // Each replica admits up to the whole limit: far above the shared b + r·T, up to twice it.
        #expect(Double(total) > 1.5 * (5 + 20 * seconds), "admitted \(total) in \(elapsed): each replica admits the whole limit")
        #expect(Double(total) <= 2 * (5 + 20 * seconds) + 2, "per replica: \(counts)")
    }
}

@Suite("Redis stopped under load")
struct OutageUnderLoadTests {
    @Test("Redis killed and restarted under 8 concurrent callers: no call hangs past its timeout, shared again within a second; real time")
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
        // Kill at 0.4 s, restart at 0.9 s, then note the counters 1 s after the restart.
        let outage = Task { () -> (RedisServer, SharedLimiterStatistics, ContinuousClock.Instant) in
            try await Task.sleep(for: .milliseconds(400))
            first.stop()
            try await Task.sleep(for: .milliseconds(500))
            let second = RedisServer.start(port: port)
            try await Task.sleep(for: .seconds(1))
            return (second, limiter.statistics, clock.now)
        }
        // Per call: when it ended, how long it took, whether the store decided it.
        let calls = try await withThrowingTaskGroup(of: [(ContinuousClock.Instant, Duration, Bool)].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var out: [(ContinuousClock.Instant, Duration, Bool)] = []
                    while clock.now - start < .milliseconds(2_800) {
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
        #expect(slowest < .milliseconds(700), "slowest call \(slowest) (timeouts 200 ms)")
        #expect(final.outages >= 1 && final.localByPolicy > 0, "\(final)")
        // From 1 s after the restart on, the store decides every call: no more policy decisions,
        // and the store admitted some.
        #expect(final.localByPolicy == atRecovery.localByPolicy, "policy decisions after recovery: \(final) vs \(atRecovery)")
        #expect(final.admitted > atRecovery.admitted)
        #expect(calls.contains { $0.0 > recoveredAt && $0.2 })
        #expect(!limiter.isStoreFailing)
    }
}
