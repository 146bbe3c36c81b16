import RedisTestServer
import AsyncHTTPClient
import Foundation
@testable import Gateway
import SharedStore
import Testing

/// Two gateways in this process on one real redis-server (`BUCKETSCOPE_REDIS_URL`, else one
/// started here; a missing redis-server fails, never skips), as two `serve --store` replicas
/// would run. Real time: counts are exact where the buckets barely refill during the test
/// (refill 0.001/s); timings have generous bounds that only catch hangs.
@Suite("Gateway on the shared store (real Redis, real time)", .serialized)
struct GatewayStoreTests {
    /// A config whose request bucket is `capacity` and (nearly) never refills, on `redis`.
    static func config(_ redis: RedisServer, capacity: Double, refill: Double = 0.001, tpm: Double? = nil,
                       policy: String = "closed", replicas: Int = 1, timeout: Duration = .seconds(1),
                       maxWait: Duration = .zero, prefix: String) throws -> GatewayConfig {
        var c = testConfig(capacity: capacity, refill: refill, tpm: tpm, maxWait: maxWait)
        c.store = try SharedStoreSettings(store: redis.url, onFailure: policy, replicas: replicas, timeout: timeout)
        c.storePrefix = prefix
        return c
    }

    /// Runs `body` with two gateways on `config` (each with its own mock upstream).
    static func replicas(_ config: GatewayConfig, _ body: (GatewayHarness, GatewayHarness) async throws -> Void) async throws {
        try await GatewayHarness.with(config) { a in
            try await GatewayHarness.with(config) { b in try await body(a, b) }
        }
    }

    static func key() -> String { "sk-store-\(UInt64.random(in: 0...UInt64.max))" }

    @Test("two gateways share one request bucket: 12 requests alternating between them against a burst of 5 → exactly 5 pass")
    func sharedExactly() async throws {
        let c = try Self.config(.shared, capacity: 5, prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            var statuses: [Int] = []
            for i in 0..<12 { statuses.append(try await (i % 2 == 0 ? a : b).request(.GET, "/v1/models", key: key).status) }
            #expect(statuses.filter { $0 == 200 }.count == 5, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 7, "\(statuses)")
            // With local buckets each gateway would have admitted 5 (10 in all).
            #expect(a.server.responder.limits.heldKeys >= 1 && b.server.responder.limits.heldKeys >= 1)
        }
    }

    @Test("40 requests at once, 20 on each gateway, against a burst of 6: exactly 6 pass (one EVALSHA each, all or nothing)")
    func sharedUnderConcurrency() async throws {
        let c = try Self.config(.shared, capacity: 6, tpm: 1_000_000, prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { g in
                for i in 0..<40 {
                    g.addTask { try await (i % 2 == 0 ? a : b).request(.POST, "/v1/chat/completions", key: key,
                                                                       body: GatewayHarness.chat(maxTokens: 5)).status }
                }
                return try await g.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 6, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 }, "\(statuses)")
        }
    }

    @Test("429 headers on the store path: limit, remaining 0, retry-after from the shared bucket; the other gateway's success headers show the shared level")
    func headers() async throws {
        // 1 request per second refill, burst 3.
        let c = try Self.config(.shared, capacity: 3, refill: 1, prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            let first = try await a.request(.GET, "/v1/models", key: key)
            #expect(first.status == 200)
            #expect(first.header("x-ratelimit-limit-requests") == "3")
            #expect(first.header("x-ratelimit-remaining-requests") == "2")
            let second = try await b.request(.GET, "/v1/models", key: key)
            // b saw a's admission in the store's answer: 1 left, not 2.
            #expect(second.header("x-ratelimit-remaining-requests") == "1")
            _ = try await a.request(.GET, "/v1/models", key: key)
            let refused = try await b.request(.GET, "/v1/models", key: key)
            if refused.status == 429 {
                #expect(refused.header("x-ratelimit-remaining-requests") == "0")
                #expect(refused.header("retry-after") == "1")
                let ms = Int(refused.header("retry-after-ms") ?? "") ?? -1
                #expect(ms > 0 && ms <= 1000, "retry-after-ms \(ms)")
                #expect(refused.error?["code"] as? String == "rate_limit_exceeded")
            } else {
                // A whole second passed between the requests on a loaded machine: refilled.
                #expect(refused.status == 200)
            }
        }
    }

    @Test("each replica's dashboard shows the shared fill level: admissions through the other replica appear at the next read")
    func dashboardShowsSharedLevels() async throws {
        let c = try Self.config(.shared, capacity: 6, prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            let id = ClientKey.fingerprint(key)
            // b's dashboard is up before the traffic (it follows requests from its start).
            let driver = GatewayFleetDriver(server: b.server)
            defer { driver.shutdown() }
            let first = try await b.request(.GET, "/v1/models", key: key)
            #expect(first.status == 200)
            for _ in 0..<3 {
                let r = try await a.request(.GET, "/v1/models", key: key)
                #expect(r.status == 200)
            }
            // What b's dashboard reads once a second (done here at once instead of waiting).
            await b.server.responder.limits.store!.refreshLevels()
            let row = driver.snapshot().keys.first { $0.key == id }
            #expect(row.map { Int($0.tokens.rounded(.down)) } == 2, "\(String(describing: row?.tokens))")
        }
    }

    @Test("tokens: one EVALSHA checks requests and tokens together; usage reconciles the estimate on the shared bucket")
    func tokensReconciled() async throws {
        // 60 tokens per minute (a bucket of 60 refilled at 1 per second). A request reserves
        // prompt + max_tokens and is reconciled to what the mock really generated.
        let c = try Self.config(.shared, capacity: 100, tpm: 60, prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            let clock = ContinuousClock()
            let start = clock.now
            let first = try await a.request(.POST, "/v1/chat/completions", key: key, body: GatewayHarness.chat(maxTokens: 20))
            #expect(first.status == 200)
            let usage = (((try? JSONSerialization.jsonObject(with: Data(first.body.utf8))) as? [String: Any])?["usage"]
                as? [String: Any])?["total_tokens"] as? Int ?? -1
            #expect(usage > 0 && usage <= 40, "usage \(usage)")
            await a.server.responder.limits.settled()
            // The other gateway reads the shared level: 60 − usage, plus what refilled since.
            let probe = try await b.request(.GET, "/v1/models", key: key)
            let elapsed = (clock.now - start).inSeconds
            let remaining = Double(probe.header("x-ratelimit-remaining-tokens") ?? "") ?? -1
            let expected = Double(60 - usage)
            #expect(remaining >= expected - 1 && remaining <= Swift.min(60, expected + elapsed + 1),
                    "remaining \(remaining), expected \(expected) + refill over \(elapsed) s")
            // A request reserving a whole bucket (prompt + 50) fits only once the bucket is full
            // again (usage seconds away): the token dimension refuses it on the other gateway.
            let refused = try await b.request(.POST, "/v1/chat/completions", key: key, body: GatewayHarness.chat(maxTokens: 50))
            #expect(refused.status == 429)
            #expect(refused.error?["type"] as? String == "tokens")
            #expect(refused.header("x-ratelimit-limit-tokens") == "60")
        }
    }

    @Test("hierarchical: two keys of one tenant on different gateways share the tenant's parent bucket of 3")
    func hierarchicalParentShared() async throws {
        var c = try Self.config(.shared, capacity: 10, prefix: uniquePrefix())
        c.keying = .hierarchical
        c.keys = [KeyEntry(name: "alice", secret: "sk-alice", tenant: "acme"), KeyEntry(name: "bob", secret: "sk-bob", tenant: "acme")]
        c.tenants = ["acme": LimitSpec(capacity: 3, refill: 0.001)]
        try await Self.replicas(c) { a, b in
            var statuses: [Int] = []
            for i in 0..<8 {
                statuses.append(try await (i % 2 == 0 ? a : b).request(.GET, "/v1/models", key: i % 2 == 0 ? "sk-alice" : "sk-bob").status)
            }
            #expect(statuses.filter { $0 == 200 }.count == 3, "\(statuses)")
        }
    }

    @Test("max-wait: requests on both gateways wait FIFO in the shared queue; beyond the wait, 429")
    func fifoAcrossReplicas() async throws {
        // Burst 1, one request per 500 ms, waits up to 1.2 s: slots at 0, 0.5 and 1.0 s.
        let c = try Self.config(.shared, capacity: 1, refill: 2, maxWait: .milliseconds(1200), prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            let clock = ContinuousClock()
            let start = clock.now
            let results = try await withThrowingTaskGroup(of: (Int, Double).self) { g in
                for i in 0..<6 {
                    g.addTask {
                        let r = try await (i % 2 == 0 ? a : b).request(.GET, "/v1/models", key: key)
                        return (r.status, (clock.now - start).inSeconds)
                    }
                }
                return try await g.reduce(into: [(Int, Double)]()) { $0.append($1) }
            }
            let admitted = results.filter { $0.0 == 200 }.map(\.1).sorted()
            #expect(admitted.count == 3, "\(results)")
            #expect(results.filter { $0.0 == 429 }.count == 3, "\(results)")
            // The third admission waited about a second (the lower bound is the point).
            if admitted.count == 3 { #expect(admitted[2] >= 0.95 && admitted[2] < 30, "\(admitted)") }
        }
    }

    @Test("give-back: nothing reached the upstream (502) → the shared reservation is returned, as the other replica sees")
    func giveBackOnUpstreamFailure() async throws {
        var c = try Self.config(.shared, capacity: 2, prefix: uniquePrefix())
        c.upstream = "http://127.0.0.1:1"
        try await GatewayHarness.with(c, mock: nil) { a in
            try await GatewayHarness.with(c, mock: nil) { b in
                let key = Self.key()
                for h in [a, b, a, b] {
                    let r = try await h.request(.POST, "/v1/chat/completions", key: key, body: GatewayHarness.chat(maxTokens: 5))
                    #expect(r.status == 502)
                    // The refund goes to Redis after the response; wait for it before the next.
                    await h.server.responder.limits.settled()
                }
                await b.server.responder.limits.store!.refreshLevels()
                let remaining = b.server.responder.limits.status(bucket: ClientKey.fingerprint(key))[.requests]?.remaining ?? -1
                #expect(remaining >= 1.99, "remaining \(remaining) of 2")
            }
        }
    }

    @Test("a request cancelled while waiting in the shared queue gives its place back")
    func cancelledWaitGivesBack() async throws {
        // Burst 1, one per second: the second request would wait 1 s.
        let c = try Self.config(.shared, capacity: 1, refill: 1, maxWait: .seconds(5), prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let client = ClientKey(id: "waiter-\(UInt64.random(in: 0...UInt64.max))", tenant: "t", known: false)
            guard case .admitted = try await a.server.responder.limits.admit(client, estimate: nil, maxWait: .zero) else {
                Issue.record("first"); return
            }
            let waiter = Task { try await b.server.responder.limits.admit(client, estimate: nil, maxWait: .seconds(5)) }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { _ = try await waiter.value }
            await b.server.responder.limits.settled()
            // Its slot (at 1 s) is free again: the next request is told under a second, not two.
            guard case .limited(let refusal) = try await a.server.responder.limits.admit(client, estimate: nil, maxWait: .zero) else {
                Issue.record("expected a 429"); return
            }
            #expect(refusal.retryAfter.map { $0 < .seconds(1) } == true, "\(String(describing: refusal.retryAfter))")
        }
    }

    @Test("live edits apply on the store path: a refill raised from the dashboard lets requests through again at once")
    func liveEdits() async throws {
        let c = try Self.config(.shared, capacity: 2, prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            let key = Self.key()
            for h in [a, b] { #expect(try await h.request(.GET, "/v1/models", key: key).status == 200) }
            #expect(try await a.request(.GET, "/v1/models", key: key).status == 429)
            // As the dashboard does on each serve process. The store reconfigures a key on its
            // next admission, keeping its level (empty here): the new refill runs from then.
            for h in [a, b] { try h.server.responder.limits.update(key: nil) { $0.refill = 50; $0.capacity = 4 } }
            let takeover = try await a.request(.GET, "/v1/models", key: key)
            #expect(takeover.header("x-ratelimit-limit-requests") == "4")
            try await Task.sleep(for: .milliseconds(100))
            let r = try await b.request(.GET, "/v1/models", key: key)
            #expect(r.status == 200)
            #expect(r.header("x-ratelimit-limit-requests") == "4")
        }
    }

    // MARK: Failure policies (a private redis-server each, stopped and started)

    /// Sends `n` requests alternating between the gateways; returns the statuses and the
    /// slowest answer.
    static func drive(_ a: GatewayHarness, _ b: GatewayHarness, key: String, _ n: Int) async throws -> ([Int], Duration) {
        var statuses: [Int] = []
        var slowest = Duration.zero
        let clock = ContinuousClock()
        for i in 0..<n {
            let t = clock.now
            statuses.append(try await (i % 2 == 0 ? a : b).request(.GET, "/v1/models", key: key, timeout: .seconds(10)).status)
            slowest = Swift.max(slowest, clock.now - t)
        }
        return (statuses, slowest)
    }

    /// Waits until a probe request on each gateway is decided by the store again (Redis back).
    static func waitForRecovery(_ a: GatewayHarness, _ b: GatewayHarness) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        for h in [a, b] {
            while h.server.responder.limits.isStoreFailing != false {
                guard clock.now - start < .seconds(10) else { Issue.record("store not back after 10 s"); return }
                _ = try await h.request(.GET, "/v1/models", key: "sk-probe")
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func metric(_ h: GatewayHarness, _ name: String) async throws -> Double? {
        let text = try await h.request(.GET, "/metrics", key: nil).body
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    @Test("closed: Redis frozen → 503 in OpenAI's shape within the store timeout, never a hang; metric and recovery; exact again after")
    func closedPolicy() async throws {
        let redis = RedisServer.start()
        defer { redis.stop() }
        let c = try Self.config(redis, capacity: 4, policy: "closed", timeout: .milliseconds(250), prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            #expect(try await a.request(.GET, "/v1/models", key: Self.key()).status == 200)
            redis.pause()
            let (statuses, slowest) = try await Self.drive(a, b, key: Self.key(), 6)
            redis.resume()
            #expect(statuses.allSatisfy { $0 == 503 }, "\(statuses)")
            // The store timeout is 250 ms (connect: 1 s); two seconds only catch a hang.
            #expect(slowest < .seconds(2), "slowest answer \(slowest)")
            let refused = try await a.request(.GET, "/v1/models", key: Self.key())
            if refused.status == 503 {
                #expect(refused.error?["code"] as? String == "rate_limit_store_unavailable")
                #expect(refused.error?["type"] as? String == "server_error")
                #expect(refused.header("retry-after") == "1")
            }
            #expect(try await Self.metric(a, "bucketscope_gateway_store_outages_total") == 1)
            try await Self.waitForRecovery(a, b)
            #expect(try await Self.metric(a, "bucketscope_gateway_store_up") == 1)
            #expect(try await Self.metric(a, "bucketscope_gateway_store_recoveries_total") == 1)
            let (after, _) = try await Self.drive(a, b, key: Self.key(), 8)
            #expect(after.filter { $0 == 200 }.count == 4, "\(after)")
        }
    }

    @Test("open: Redis stopped → every request admitted (over the limit); restarted (empty) → exact again")
    func openPolicy() async throws {
        let port = RedisServer.freePort()
        var redis = RedisServer.start(port: port)
        let c = try Self.config(redis, capacity: 4, policy: "open", timeout: .milliseconds(250), prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            redis.stop()
            let (statuses, slowest) = try await Self.drive(a, b, key: Self.key(), 10)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            #expect(slowest < .seconds(2), "slowest answer \(slowest)")
            #expect(try await Self.metric(b, "bucketscope_gateway_store_up") == 0)
            #expect(try await Self.metric(b, "bucketscope_gateway_store_policy_decisions_total") == 5)
            redis = RedisServer.start(port: port)
            try await Self.waitForRecovery(a, b)
            let (after, _) = try await Self.drive(a, b, key: Self.key(), 8)
            #expect(after.filter { $0 == 200 }.count == 4, "\(after)")
        }
        redis.stop()
    }

    @Test("local with --replicas 2: Redis stopped → each gateway limits at burst ÷ 2, so the pair admits the shared 4; back → shared again")
    func localPolicy() async throws {
        let port = RedisServer.freePort()
        var redis = RedisServer.start(port: port)
        let c = try Self.config(redis, capacity: 4, policy: "local", replicas: 2, timeout: .milliseconds(250), prefix: uniquePrefix())
        try await Self.replicas(c) { a, b in
            redis.stop()
            let (statuses, slowest) = try await Self.drive(a, b, key: Self.key(), 12)
            #expect(statuses.filter { $0 == 200 }.count == 4, "\(statuses)")
            #expect(slowest < .seconds(2), "slowest answer \(slowest)")
            redis = RedisServer.start(port: port)
            try await Self.waitForRecovery(a, b)
            let (after, _) = try await Self.drive(a, b, key: Self.key(), 8)
            #expect(after.filter { $0 == 200 }.count == 4, "\(after)")
        }
        redis.stop()
    }

    @Test("with a store the event-loop fast path declines every request: admission is the store's")
    func fastPathDeclines() throws {
        let limits = try GatewayLimits(try Self.config(.shared, capacity: 100, refill: 100, prefix: uniquePrefix()))
        #expect(limits.tryAdmit(ClientKey(id: "k", tenant: "k", known: false), estimate: nil) == nil)
        let local = try GatewayLimits(testConfig(capacity: 100, refill: 100))
        #expect(local.tryAdmit(ClientKey(id: "k", tenant: "k", known: false), estimate: nil) != nil)
    }

    @Test("config: [store] in TOML, defaults, and bad values named by field")
    func storeConfig() throws {
        let c = try GatewayConfig.parse(toml: """
            mock = true
            [store]
            url = "redis://127.0.0.1:6390"
            on_failure = "closed"
            replicas = 3
            timeout = "20ms"
            prefix = "fleet-a:"
            """)
        #expect(c.store?.endpoint.port == 6390)
        #expect(c.store?.policy == .closed)
        #expect(c.store?.timeout == .milliseconds(20))
        #expect(c.storePrefix == "fleet-a:")
        let d = try GatewayConfig.parse(toml: "[store]\nurl = \"redis://127.0.0.1:6390\"\nreplicas = 2\n")
        #expect(d.store?.policy == .local(replicas: 2))
        #expect(d.store?.timeout == .milliseconds(50))
        func message(_ toml: String) -> String {
            do { _ = try GatewayConfig.parse(toml: toml); return "" } catch { return error.description }
        }
        #expect(message("[store]\non_failure = \"open\"\n").hasPrefix("store.url: required"))
        #expect(message("[store]\nurl = \"redis://h:1\"\non_failure = \"maybe\"\n")
            == "store.on_failure: expected \"open\", \"closed\" or \"local\", got \"maybe\"")
        #expect(message("[store]\nurl = \"redis://h:1\"\nreplicas = 0\n") == "store.replicas: must be >= 1, got 0")
        #expect(message("[store]\nurl = \"redis://h:1\"\ntimeout = \"20s\"\n").hasPrefix("store.timeout: must be 1ms to 10s"))
        #expect(message("[store]\nurl = \"http://h:1\"\n").hasPrefix("store.url: "))
        #expect(message("[store]\nurl = \"redis://h:1\"\nbogus = 1\n") == "store.bogus: unknown field")
    }
}
