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

    /// A limiter on its own client; `timeout` bounds connects and commands (short for the
    /// failure tests, long where only the waiting is under test, so a starved machine's slow
    /// first connect is not taken for an outage).
    func limiter(_ server: RedisServer, policy: StoreFailurePolicy, log: LogLines,
                 timeout: Duration = .milliseconds(200)) -> (SharedLimiter, RedisClient) {
        let client = RedisClient(RedisClientConfiguration(endpoint: server.endpoint, connections: 1, connectTimeout: Swift.max(timeout, .milliseconds(250)),
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
        // The lower bound is the point; the upper one only catches a hang (a loaded machine took > 10 s).
        #expect(waited >= .milliseconds(990) && waited < .seconds(60), "waited \(waited)")
        guard case .limited(let retry) = try await limiter.acquire([l], maxWait: .zero) else { Issue.record("third"); return }
        #expect(retry > .zero && retry <= .seconds(1))
        guard case .never(let big) = try await limiter.acquire([SharedLimit(key: "k", configuration: config, cost: 2)], maxWait: .seconds(5)) else {
            Issue.record("never"); return
        }
        #expect(big.cost == 2)
        #expect(limiter.statistics.never == 1 && limiter.statistics.limited == 1 && limiter.statistics.admitted == 2)
    }

    @Test("policy closed: Redis down → unavailable (503) within the timeout, logged once; back → shared again, logged")
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
            // Timeouts are 200 ms and a refused connection fails at once; 2 s leaves room for a
            // starved test machine (the whole suite in parallel on 2 cores), not for a hang.
            #expect(clock.now - start < .seconds(2))
        }
        #expect(limiter.isStoreFailing)
        #expect(limiter.statistics.refusedByPolicy == 3 && limiter.statistics.outages == 1)
        #expect(log.all.count == 1 && log.all[0].contains("failing"))
        server = RedisServer.start(port: port)
        defer { server.stop() }
        let back = clock.now
        var shared = false
        while clock.now - back < .seconds(2), !shared {
            if case .admitted(let p) = try await limiter.acquire([limit()], maxWait: .zero) { shared = p.isShared }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(shared)
        #expect(clock.now - back < .seconds(1), "shared limits back after \(clock.now - back)")
        #expect(!limiter.isStoreFailing)
        #expect(log.all.count == 2 && log.all[1].contains("again"))
    }

    @Test("policy open: Redis down → admitted without limits; local: limited by buckets sized limit ÷ replicas")
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
        for _ in 0..<5 {
            switch try await local.acquire([limit()], maxWait: .zero) {
            case .admitted: admitted += 1
            case .limited(let r): retry = r
            default: Issue.record("local")
            }
        }
        #expect(admitted == 2)
        #expect(retry.map { $0 > .zero && $0 <= .seconds(2) } == true, "retry \(String(describing: retry))")
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
