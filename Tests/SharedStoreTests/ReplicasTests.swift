@testable import SharedStore
import RedisTestServer
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
    /// Sequenced by what the callers have done, never by sleeps: a loaded machine may not run
    /// them for many seconds, and then a kill "at 0.4 s" would come before any call.
    @Test("Redis killed and restarted under 8 concurrent callers: no call hangs, the store decides again once reached; real time")
    func outageUnderLoad() async throws {
        let port = RedisServer.freePort()
        let first = RedisServer.start(port: port)
        // A stopped server refuses at once; the timeouts only catch a hang of a running one.
        let client = RedisClient(RedisClientConfiguration(endpoint: first.endpoint, connections: 2, connectTimeout: .seconds(5),
                                                          commandTimeout: .seconds(5), maximumBackoff: .milliseconds(200)))
        defer { client.shutdown() }
        let limiter = SharedLimiter(buckets: RedisBuckets(client: client, prefix: uniquePrefix()), policy: .local(replicas: 2))
        let limit = SharedLimit(key: "k", configuration: try BucketConfiguration(capacity: 50, refillPerSecond: 100), cost: 1)
        let clock = ContinuousClock()
        let start = clock.now
        let log = CallLog()
        /// Polls `condition` every 5 ms; false after 300 s (a hang, recorded by the checks below).
        @Sendable func until(_ condition: () -> Bool) async throws -> Bool {
            while !condition() {
                if clock.now - start > .seconds(300) { return false }
                try await Task.sleep(for: .milliseconds(5))
            }
            return true
        }
        // Kill once the callers run (16 calls), restart once they have met the outage (8 policy
        // decisions), note the counters once the store has decided 16 calls again, then let the
        // callers make 16 more.
        let outage = Task { () -> (RedisServer, SharedLimiterStatistics, ContinuousClock.Instant) in
            _ = try await until { log.count >= 16 }
            first.stop()
            _ = try await until { limiter.statistics.localByPolicy >= 8 }
            let second = RedisServer.start(port: port)
            _ = try await until { !limiter.isStoreFailing }
            let decided = { (s: SharedLimiterStatistics) in s.admitted + s.limited }
            let back = decided(limiter.statistics)
            _ = try await until { decided(limiter.statistics) >= back + 16 }
            let recovered = clock.now
            let statistics = limiter.statistics
            log.stop(after: 16)
            return (second, statistics, recovered)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while !log.isDone, clock.now - start < .seconds(300) {
                        let t = clock.now
                        let decision = try await limiter.acquire([limit], maxWait: .zero)
                        var shared = false
                        if case .admitted(let p) = decision { shared = p.isShared }
                        log.append((clock.now, clock.now - t, shared))
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            try await group.waitForAll()
        }
        let (second, atRecovery, recoveredAt) = try await outage.value
        defer { second.stop() }
        let calls = log.all
        let final = limiter.statistics
        let slowest = calls.map(\.1).max() ?? .zero
        // The bound only catches a hang (a starved machine stalls for many seconds).
        #expect(slowest < .seconds(60), "slowest call \(slowest)")
        #expect(final.outages >= 1 && final.localByPolicy > 0, "\(final)")
        // From the moment the store had decided 16 calls again, it decides every call: no more
        // policy decisions, and the store admitted some.
        #expect(final.localByPolicy == atRecovery.localByPolicy, "policy decisions after recovery: \(final) vs \(atRecovery)")
        #expect(final.admitted > atRecovery.admitted)
        #expect(calls.contains { $0.0 > recoveredAt && $0.2 })
        #expect(!limiter.isStoreFailing)
    }
}

/// The calls of ``OutageUnderLoadTests``: when each ended, how long it took, whether the store
/// decided it; and when the callers are to stop (a number of calls).
final class CallLog: Sendable {
    private let state = Mutex<(calls: [(ContinuousClock.Instant, Duration, Bool)], stopAt: Int?)>(([], nil))
    var count: Int { state.withLock { $0.calls.count } }
    var all: [(ContinuousClock.Instant, Duration, Bool)] { state.withLock { $0.calls } }
    var isDone: Bool { state.withLock { s in s.stopAt.map { s.calls.count >= $0 } ?? false } }
    func append(_ call: (ContinuousClock.Instant, Duration, Bool)) { state.withLock { $0.calls.append(call) } }
    /// The callers stop once `more` calls have been made from now on.
    func stop(after more: Int) { state.withLock { $0.stopAt = $0.calls.count + more } }
}
