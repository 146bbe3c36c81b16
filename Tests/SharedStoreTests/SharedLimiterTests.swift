import RedisTestServer
import Synchronization
import SharedStore
import Testing
import TokenBucket

/// Log lines collected from a limiter.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

@Suite("SharedLimiter: waiting, failure policies, recovery")
struct SharedLimiterTests {
    static let config = try! BucketConfiguration(capacity: 4, refillPerSecond: 1)

    func limiter(_ server: RedisServer, policy: StoreFailurePolicy, log: LogLines,
                 timeout: Duration = .seconds(5)) -> (SharedLimiter, RedisClient) {
        // A running server may take long to answer on a loaded machine; a stopped one refuses
        // at once, so the generous timeouts never slow the outage tests down.
        let client = RedisClient(RedisClientConfiguration(endpoint: server.endpoint, connections: 1, connectTimeout: .seconds(30),
                                                          commandTimeout: timeout, maximumBackoff: .milliseconds(200)))
        let buckets = RedisBuckets(client: client, prefix: uniquePrefix())
        return (SharedLimiter(buckets: buckets, policy: policy, log: { log.append($0) }), client)
    }

    func limit(cost: Double = 1) -> SharedLimit { SharedLimit(key: "k", configuration: Self.config, cost: cost) }

    @Test("within maxWait the caller sleeps until its turn (real time, 1 s); beyond it, limited with the retry delay")
    func waitsOrLimits() async throws {
        let config = try BucketConfiguration(capacity: 1, refillPerSecond: 1)
        let (limiter, client) = limiter(RedisServer.shared, policy: .closed, log: LogLines(), timeout: .seconds(2))
        defer { client.shutdown() }
        let l = SharedLimit(key: "k", configuration: config, cost: 1)
        // Timed from before the first admission: the second is admitted 1 s after it.
        let clock = ContinuousClock()
        let start = clock.now
        guard case .admitted = try await limiter.acquire([l], maxWait: .zero) else { Issue.record("first"); return }
        guard case .admitted(let permit) = try await limiter.acquire([l], maxWait: .seconds(2)) else { Issue.record("second"); return }
        let waited = clock.now - start
        #expect(permit.isShared)
        // The lower bound is the point; the upper one only catches a hang (a loaded machine took 70 s).
        #expect(waited >= .milliseconds(990) && waited < .seconds(300), "waited \(waited)")
        // At once after the second: limited until the next token, 1 s after the second's
        // admission (a machine that took that long to get here is admitted instead).
        let third = try await limiter.acquire([l], maxWait: .zero)
        if clock.now - start < .seconds(2) {
            guard case .limited(let retry) = third else { Issue.record("third: \(third)"); return }
            #expect(retry > .zero && retry <= .seconds(1))
        }
        guard case .never(let big) = try await limiter.acquire([SharedLimit(key: "k", configuration: config, cost: 2)], maxWait: .seconds(5)) else {
            Issue.record("never"); return
        }
        #expect(big.cost == 2)
        let stats = limiter.statistics
        #expect(stats.never == 1 && stats.limited + stats.admitted == 3 && stats.admitted >= 2, "\(stats)")
    }

    @Test("real time: policy closed: Redis down → unavailable (503), logged once; back → shared again, logged")
    func closedPolicyAndRecovery() async throws {
        let port = RedisServer.freePort()
        var server = RedisServer.start(port: port)
        let log = LogLines()
        let (limiter, client) = limiter(server, policy: .closed, log: log)
        defer { client.shutdown() }
        guard case .admitted = try await limiter.acquire([limit()], maxWait: .zero) else { Issue.record("up"); return }
        server.stop()
        let clock = ContinuousClock()
        for _ in 0..<3 {
            let start = clock.now
            guard case .unavailable = try await limiter.acquire([limit()], maxWait: .zero) else { Issue.record("down"); return }
            // Timeouts are 200 ms; the bound only catches a hang (a loaded machine stalls for seconds).
            #expect(clock.now - start < .seconds(30))
        }
        #expect(limiter.isStoreFailing)
        #expect(limiter.statistics.refusedByPolicy == 3 && limiter.statistics.outages == 1)
        #expect(log.all.count == 1 && log.all[0].contains("failing"))
        server = RedisServer.start(port: port)
        defer { server.stop() }
        let back = clock.now
        var shared = false
        // Back within the 200 ms backoff on an idle machine; the 60 s bound only catches a
        // limiter that never tries the store again.
        while clock.now - back < .seconds(60), !shared {
            if case .admitted(let p) = try await limiter.acquire([limit()], maxWait: .zero) { shared = p.isShared }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(shared, "shared limits not back after \(clock.now - back)")
        #expect(!limiter.isStoreFailing)
        #expect(log.all.count == 2 && log.all[1].contains("again"))
    }

    @Test("real time: policy open: Redis down → admitted without limits; local: limited by buckets sized limit ÷ replicas")
    func openAndLocalPolicies() async throws {
        let server = RedisServer.start()
        let log = LogLines()
        let (open, c1) = limiter(server, policy: .open, log: log)
        let (local, c2) = limiter(server, policy: .local(replicas: 2), log: log)
        defer { c1.shutdown(); c2.shutdown() }
        server.stop()
        for _ in 0..<10 {
            guard case .admitted(let p) = try await open.acquire([limit()], maxWait: .zero) else { Issue.record("open"); return }
            #expect(!p.isShared)
        }
        #expect(open.statistics.openedByPolicy == 10)
        // Capacity 4 ÷ 2 replicas = 2 admitted at once, then limited at 1/2 token per second.
        var admitted = 0
        var retry: Duration?
        let start = ContinuousClock.now
        for _ in 0..<5 {
            switch try await local.acquire([limit()], maxWait: .zero) {
            case .admitted: admitted += 1
            case .limited(let r): retry = r
            default: Issue.record("local")
            }
        }
        // The local bucket refills while the calls run: one more per 2 s they took (none on an
        // idle machine, where the five take milliseconds).
        let elapsed = ContinuousClock.now - start
        let refilled = Int(Double(elapsed.components.seconds) / 2 + Double(elapsed.components.attoseconds) / 2e18)
        #expect(admitted >= 2 && admitted <= 2 + refilled, "admitted \(admitted) in \(elapsed)")
        if admitted < 5 { #expect(retry.map { $0 > .zero && $0 <= .seconds(2) } == true, "retry \(String(describing: retry))") }
        #expect(local.statistics.localByPolicy == 5)
    }

    @Test("policy words: open, closed, local with replicas; anything else refused with a message")
    func parsing() throws {
        #expect(try StoreFailurePolicy(parsing: "open") == .open)
        #expect(try StoreFailurePolicy(parsing: "closed") == .closed)
        #expect(try StoreFailurePolicy(parsing: "local", replicas: 3) == .local(replicas: 3))
        #expect(throws: StoreFailurePolicy.PolicyError.self) { try StoreFailurePolicy(parsing: "lenient") }
        #expect(throws: StoreFailurePolicy.PolicyError.self) { try StoreFailurePolicy(parsing: "local", replicas: 0) }
    }
}

@Suite("Store settings from the command line")
struct SharedStoreSettingsTests {
    @Test("--store, --on-store-failure, --replicas, --store-timeout: valid words build the settings")
    func valid() throws {
        let s = try SharedStoreSettings(store: "redis://127.0.0.1:6390", onFailure: "local", replicas: 3, timeoutMilliseconds: 20)
        #expect(s.endpoint == RedisEndpoint(host: "127.0.0.1", port: 6390))
        #expect(s.policy == .local(replicas: 3))
        #expect(s.timeout == .milliseconds(20))
        #expect(try SharedStoreSettings(store: "redis://h").policy == .local(replicas: 1))
    }

    @Test("bad values: one clear message naming the option")
    func invalid() {
        let cases: [(String, String, Int, Int, String)] = [
            ("127.0.0.1:6379", "open", 1, 50, "--store"),
            ("redis://h:1", "sometimes", 1, 50, "--on-store-failure"),
            ("redis://h:1", "local", 0, 50, "--replicas"),
            ("redis://h:1", "open", 1, 0, "--store-timeout"),
        ]
        for (store, policy, replicas, timeout, option) in cases {
            do {
                _ = try SharedStoreSettings(store: store, onFailure: policy, replicas: replicas, timeoutMilliseconds: timeout)
                Issue.record("accepted \(store) \(policy) \(replicas) \(timeout)")
            } catch {
                #expect(error.description.contains(option), "\(error.description)")
            }
        }
    }
}
