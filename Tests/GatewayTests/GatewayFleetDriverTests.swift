import Fleet
import Testing
import TokenBucket
@testable import Gateway

/// The dashboard's driver over a gateway, without a server or a terminal: requests are reported
/// through the metrics' calls as the proxy makes them, on a manual clock.
@Suite("Gateway dashboard driver")
struct GatewayFleetDriverTests {
    struct Rig {
        let clock: ManualClock
        let limits: GatewayLimits
        let metrics: GatewayMetrics
        let driver: GatewayFleetDriver<ManualClock>

        init(_ config: GatewayConfig, tuning: TuningSpec? = nil, upstream: UpstreamSpec = UpstreamSpec(name: "mock upstream")) throws {
            let limits = try GatewayLimits(config)
            let clock = ManualClock()
            self.limits = limits
            self.clock = clock
            metrics = GatewayMetrics(trackedKeys: config.trackedKeys, tuner: tuning.map { RefillTuner($0, limits: limits, clock: clock) })
            driver = GatewayFleetDriver(limits: limits, metrics: metrics, clock: clock, name: "serve", upstream: upstream)
        }

        func row(_ key: String) throws -> KeySnapshot {
            try #require(driver.snapshot().keys.first { $0.key == key })
        }
    }

    static let alice = ClientKey(id: "alice", tenant: "acme", known: true)
    static let bob = ClientKey(id: "bob", tenant: "acme", known: true)
    static let carol = ClientKey(id: "carol", tenant: "globex", known: true)

    static func config(capacity: Double = 5, refill: Double = 1) -> GatewayConfig {
        var c = testConfig(capacity: capacity, refill: refill)
        c.keys = [KeyEntry(name: "alice", secret: "sk-a", tenant: "acme"), KeyEntry(name: "bob", secret: "sk-b", tenant: "acme"),
                  KeyEntry(name: "carol", secret: "sk-c", tenant: "globex")]
        return c
    }

    @Test("a row appears with a key's first request, in its tenant's group")
    func rowsAppear() throws {
        let rig = try Rig(Self.config())
        #expect(rig.driver.snapshot().keys.isEmpty)
        let a = rig.metrics.arrived(Self.alice)
        rig.metrics.decided(a, admittedAfter: .zero, limited: false, estimated: 0)
        let b = rig.metrics.arrived(Self.carol)
        rig.metrics.decided(b, admittedAfter: .zero, limited: false, estimated: 0)
        let s = rig.driver.snapshot()
        #expect(s.keys.map(\.key).sorted() == ["alice", "carol"])
        #expect(s.keys.first { $0.key == "alice" }?.group == "acme")
        #expect(s.groups.map(\.name).sorted() == ["acme", "globex"])
        #expect(s.mode == .live && s.keying == .perUser)
    }

    @Test("a request waiting 3 s so far: waiters 1, oldest wait 3 s, its wait counted as at least 3 s in key and group")
    func oldestWaitMoves() throws {
        let rig = try Rig(Self.config())
        let done = rig.metrics.arrived(Self.alice)
        rig.metrics.decided(done, admittedAfter: .zero, limited: false, estimated: 0)   // admitted at once: 0 ms
        let waiting = rig.metrics.arrived(Self.alice)
        rig.clock.advance(by: .seconds(1))
        #expect(try rig.row("alice").oldestWaitSeconds == 1)
        rig.clock.advance(by: .seconds(2))
        let row = try rig.row("alice")
        #expect(row.waiters == 1 && row.requests == 2 && row.admitted == 1)
        #expect(row.oldestWaitSeconds == 3)
        #expect(row.waitMs.max == 3_000 && row.waitMs.lowerBound)
        let group = try #require(rig.driver.snapshot().groups.first { $0.name == "acme" })
        #expect(group.waiting == 1 && group.oldestWaitSeconds == 3 && group.waitMs.max == 3_000)

        rig.metrics.decided(waiting, admittedAfter: .seconds(3), limited: false, estimated: 0)
        let after = try rig.row("alice")
        #expect(after.waiters == 0 && after.oldestWaitSeconds == 0 && after.admitted == 2)
        #expect(after.waitMs.max == 3_000 && !after.waitMs.lowerBound)
    }

    @Test("a 429 from the gateway counts as rejected, a client gone while waiting as timed out")
    func refusals() throws {
        let rig = try Rig(Self.config())
        let limited = rig.metrics.arrived(Self.bob)
        rig.metrics.decided(limited, admittedAfter: nil, limited: true, estimated: 0)
        let gone = rig.metrics.arrived(Self.bob)
        rig.clock.advance(by: .milliseconds(500))
        rig.metrics.decided(gone, admittedAfter: nil, limited: false, estimated: 0)
        let row = try rig.row("bob")
        #expect(row.requests == 2 && row.rejected == 1 && row.timedOut == 1 && row.waiters == 0 && row.admitted == 0)
        let report = try #require(rig.driver.reportSoFar())
        #expect(conservationHolds(report))
    }

    @Test("the upstream's answer and usage reach the upstream pane; the request ends when its last copy goes")
    func upstreamAndEnd() throws {
        let rig = try Rig(Self.config(), upstream: UpstreamSpec(name: "mock upstream", limits: ProviderLimits(requestsPerMinute: 60)))
        do {
            let v = rig.metrics.arrived(Self.alice)
            rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 100)
            rig.metrics.upstreamAnswered(v, status: 200)
            #expect(rig.driver.snapshot().upstream.inFlight == 1)
            rig.metrics.reconciled(v, tokens: 42)
            withExtendedLifetime(v) {}
        }
        do {
            let limited = rig.metrics.arrived(Self.alice)
            rig.metrics.decided(limited, admittedAfter: .zero, limited: false, estimated: 0)
            rig.metrics.upstreamAnswered(limited, status: 429, headers: ["retry-after": "2"])
            withExtendedLifetime(limited) {}
        }
        let s = rig.driver.snapshot()
        #expect(s.upstream.inFlight == 0)
        #expect(s.upstream.requests == 2 && s.upstream.status429 == 1)
        #expect(s.upstream.tokensLastMinute == 42)
        #expect(s.upstream.requestsPerMinute == 60)
        #expect(s.keys.first?.upstream429 == 1)
        let report = try #require(rig.driver.reportSoFar())
        #expect(report.upstream.completed == 1 && report.upstream.failed == 1)
    }

    @Test("capacity, refill and tokens columns are read from the live limits")
    func columnsFromLimits() async throws {
        let rig = try Rig(Self.config(capacity: 5, refill: 0.001))
        for _ in 0..<2 {
            let v = rig.metrics.arrived(Self.alice)
            guard case .admitted = try await rig.limits.admit(Self.alice, estimate: nil, maxWait: .zero) else {
                Issue.record("not admitted"); return
            }
            rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
        }
        let row = try rig.row("alice")
        #expect(row.capacity == 5 && row.refillPerSecond == 0.001)
        #expect(row.tokens >= 3 && row.tokens < 3.1)
    }

    @Test("edits reach the live limits: a row's edit goes to the bucket set its requests use")
    func edits() throws {
        let rig = try Rig(Self.config())
        let a = rig.metrics.arrived(Self.alice)
        rig.metrics.decided(a, admittedAfter: .zero, limited: false, estimated: 0)
        try rig.driver.apply(.setCapacity(20, key: "alice"))
        #expect(rig.limits.spec(bucket: "alice").capacity == 20)
        #expect(rig.limits.spec(bucket: "bob").capacity == 5)
        #expect(rig.driver.snapshot().lastChange?.summary == "capacity of alice → 20")
        #expect(try rig.row("alice").capacity == 20)
        try rig.driver.apply(.setRefill(3, key: nil))
        #expect(rig.limits.spec(bucket: "someone-else").refill == 3)

        // Per tenant: alice's row edits acme's set.
        try rig.driver.apply(.setKeying(.perTenant))
        #expect(rig.limits.keying == .perTenant && rig.driver.snapshot().keying == .perTenant)
        try rig.driver.apply(.setCapacity(7, key: "alice"))
        #expect(rig.limits.spec(bucket: "acme").capacity == 7)
        #expect(rig.driver.snapshot().lastChange?.summary == "capacity of acme (alice's per-tenant set) → 7")
        #expect(try rig.row("alice").capacity == 7)

        // Shared: a row's edit is everyone's.
        try rig.driver.apply(.setKeying(.shared))
        try rig.driver.apply(.setCapacity(9, key: "alice"))
        #expect(rig.limits.spec(bucket: "shared").capacity == 9)

        try rig.driver.apply(.applyPreset("OpenAI gpt-4o Tier 1"))
        let preset = try #require(ProviderPreset.named("OpenAI gpt-4o Tier 1"))
        #expect(rig.limits.spec(bucket: "shared").refill == preset.limits.requests?.refill.perSecond)
        #expect(throws: (any Error).self) { try rig.driver.apply(.setNoisy(false)) }
        #expect(throws: (any Error).self) { try rig.driver.apply(.setCapacity(-1, key: nil)) }
        #expect(throws: (any Error).self) { try rig.driver.apply(.setCapacity(3, key: "nobody")) }
        #expect(throws: (any Error).self) { try rig.driver.apply(.applyPreset("no such preset")) }
    }

    @Test("keys past tracked_keys share the (other) row, which takes no per-key edit")
    func otherRow() throws {
        var c = Self.config()
        c.trackedKeys = 4   // alice + 3 unlisted
        let rig = try Rig(c)
        for i in 0..<6 {
            let v = rig.metrics.arrived(ClientKey(id: "key-\(i)", tenant: "key-\(i)", known: false))
            rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
        }
        let s = rig.driver.snapshot()
        #expect(s.keys.count == 5)
        #expect(s.keys.first { $0.key == GatewayMetrics.other }?.requests == 2)
        #expect(s.groups.map(\.name).sorted() == [GatewayMetrics.other, "unlisted"])
        #expect(throws: (any Error).self) { try rig.driver.apply(.setCapacity(3, key: GatewayMetrics.other)) }
    }

    @Test("with tuning on, a refill edit is the configured refill: the limits get it × the factor")
    func refillEditUnderTuning() throws {
        let rig = try Rig(Self.config(capacity: 5, refill: 10), tuning: TuningSpec(window: 1_000_000_000))
        let tuner = try #require(rig.metrics.tuner)
        tuner.answered(status: 429, retryAfter: nil)
        rig.clock.advance(by: .seconds(1))
        _ = rig.driver.snapshot()   // judges the window: 100 % 429s, refill × 0.8
        #expect(tuner.factor == 0.8 && rig.limits.spec(bucket: "alice").refill == 8)
        #expect(rig.driver.snapshot().lastChange?.summary == "tuning: 429 rate 100% > 1%: refill factor 1 → 0.8")
        try rig.driver.apply(.setRefill(8, key: nil))
        #expect(abs((rig.limits.spec(bucket: "alice").refill ?? 0) - 6.4) < 1e-9)
        #expect(rig.driver.snapshot().tuningFactor == 0.8)
    }

    @Test("a driver stopped (the dashboard's restart) no longer follows; the new one does")
    func restart() throws {
        let rig = try Rig(Self.config())
        rig.driver.shutdown()
        let next = GatewayFleetDriver(limits: rig.limits, metrics: rig.metrics, clock: rig.clock, name: "serve", upstream: UpstreamSpec())
        let v = rig.metrics.arrived(Self.alice)
        rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
        #expect(rig.driver.snapshot().keys.isEmpty)
        #expect(next.snapshot().keys.map(\.key) == ["alice"])
    }

    static func hierarchical() -> GatewayConfig {
        var c = config(capacity: 5, refill: 0.001)
        c.keying = .hierarchical
        c.parent = LimitSpec(capacity: 8, refill: 0.002)
        c.tenants = ["globex": LimitSpec(capacity: 3)]
        return c
    }

    /// Admits one request of `client` through the limits, as the proxy does, and reports it.
    func admit(_ rig: Rig, _ client: ClientKey) async throws {
        let v = rig.metrics.arrived(client)
        guard case .admitted = try await rig.limits.admit(client, estimate: nil, maxWait: .zero) else {
            Issue.record("not admitted"); return
        }
        rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
    }

    @Test("hierarchical keying: each key names its tenant's bucket as parent; the tenant is a row with the parent's level")
    func tenantRows() async throws {
        let rig = try Rig(Self.hierarchical())
        let stranger = ClientKey(id: "key-0123456789ab", tenant: "key-0123456789ab", known: false)
        for client in [Self.alice, Self.alice, Self.bob, Self.carol, stranger] { try await admit(rig, client) }
        let s = rig.driver.snapshot()
        #expect(s.keying == .hierarchical)
        let parentOf = Dictionary(uniqueKeysWithValues: s.keys.map { ($0.key, $0.parent) })
        #expect(parentOf["alice"] == "tenant:acme" && parentOf["bob"] == "tenant:acme")
        #expect(parentOf["carol"] == "tenant:globex")
        #expect(parentOf["key-0123456789ab"] == "tenant:key-0123456789ab")   // an unlisted key is its own tenant
        #expect(parentOf["tenant:acme"] == .some(nil) && parentOf["tenant:globex"] == .some(nil))
        #expect(s.keys.count == 7)   // 4 keys, 3 tenants

        // acme's bucket: [parent] capacity 8, refill 0.002/s, 3 requests taken from it.
        let acme = try rig.row("tenant:acme")
        #expect(acme.capacity == 8 && acme.refillPerSecond == 0.002)
        #expect(acme.tokens >= 5 && acme.tokens < 5.1)
        #expect(acme.group == "acme" && acme.requests == 3 && acme.admitted == 3)
        // globex's own [tenants.globex] capacity 3 over [parent].
        let globex = try rig.row("tenant:globex")
        #expect(globex.capacity == 3 && globex.tokens >= 2 && globex.tokens < 2.1)
        // The keys keep their own buckets' levels.
        let alice = try rig.row("alice")
        #expect(alice.capacity == 5 && alice.tokens >= 3 && alice.tokens < 3.1)
        // Tenant rows are not counted twice in their groups.
        #expect(s.groups.first { $0.name == "acme" }?.requests == 3)
        #expect(conservationHolds(try #require(rig.driver.reportSoFar())))
    }

    @Test("a request waiting at a key waits at its tenant's row too; refused, it counts there as refused")
    func tenantRowCountsWaitsAndRefusals() throws {
        let rig = try Rig(Self.hierarchical())
        let waiting = rig.metrics.arrived(Self.alice)
        rig.clock.advance(by: .seconds(2))
        var acme = try rig.row("tenant:acme")
        #expect(acme.waiters == 1 && acme.oldestWaitSeconds == 2)
        rig.metrics.decided(waiting, admittedAfter: nil, limited: true, estimated: 0)
        acme = try rig.row("tenant:acme")
        #expect(acme.waiters == 0 && acme.rejected == 1 && acme.requests == 1)
        #expect(try rig.row("alice").rejected == 1)
    }

    @Test("a tenant row's edit changes that tenant's parent set live, not its keys' or other tenants'")
    func tenantRowEdits() throws {
        let rig = try Rig(Self.hierarchical())
        let v = rig.metrics.arrived(Self.alice)
        rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
        let w = rig.metrics.arrived(Self.carol)
        rig.metrics.decided(w, admittedAfter: .zero, limited: false, estimated: 0)
        _ = rig.driver.snapshot()
        let aliceBefore = try rig.row("alice").capacity
        try rig.driver.apply(.setCapacity(30, key: "tenant:acme"))
        try rig.driver.apply(.setRefill(3, key: "tenant:acme"))
        let acme = try rig.row("tenant:acme")
        #expect(acme.capacity == 30 && acme.refillPerSecond == 3)
        #expect(try rig.row("tenant:globex").capacity == 3)   // its own [tenants] entry, untouched
        #expect(try rig.row("alice").capacity == aliceBefore)
        // The limits themselves: acme's parent set, from its [tenants] entry.
        #expect(rig.limits.spec(bucket: "alice").capacity == aliceBefore)
        #expect(rig.driver.steering.summary(.setCapacity(30, key: "tenant:acme")) == "capacity of tenant:acme (acme's parent bucket set) → 30")
        try rig.driver.apply(.setCapacity(7, key: "alice"))
        #expect(try rig.row("alice").capacity == 7 && rig.row("tenant:acme").capacity == 30)
        #expect(throws: (any Error).self) { try rig.driver.apply(.setCapacity(-1, key: "tenant:acme")) }
        #expect(try rig.row("tenant:acme").capacity == 30)   // a refused edit changes nothing
    }

    @Test("other keyings have no parents and no tenant rows; switching back to hierarchical brings them back")
    func keyingSwitchReparents() async throws {
        let rig = try Rig(Self.hierarchical())
        try await admit(rig, Self.alice)
        try await admit(rig, Self.carol)
        try rig.driver.apply(.setKeying(.perUser))
        var s = rig.driver.snapshot()
        #expect(s.keys.map(\.key).sorted() == ["alice", "carol"])
        #expect(s.keys.allSatisfy { $0.parent == nil })
        try rig.driver.apply(.setKeying(.perTenant))
        #expect(rig.driver.snapshot().keys.allSatisfy { $0.parent == nil })
        try rig.driver.apply(.setKeying(.hierarchical))
        s = rig.driver.snapshot()
        #expect(s.keys.first { $0.key == "carol" }?.parent == "tenant:globex")
        #expect(s.keys.first { $0.key == "tenant:globex" }?.capacity == 3)
    }

    @Test("a per-key gateway switched to hierarchical shows each tenant's level from the first frame")
    func tenantRowsAfterASwitch() async throws {
        var c = Self.hierarchical()
        c.keying = .perKey
        let rig = try Rig(c)
        try await admit(rig, Self.alice)
        #expect(rig.driver.snapshot().keys.map(\.key) == ["alice"])
        try rig.driver.apply(.setKeying(.hierarchical))
        let acme = try rig.row("tenant:acme")
        #expect(acme.capacity == 8 && acme.tokens == 8)   // new bucket sets start full
        #expect(try rig.row("alice").parent == "tenant:acme")
    }

    @Test("(other) sums keys of many tenants: no parent")
    func otherHasNoParent() throws {
        var c = Self.hierarchical()
        c.trackedKeys = 1
        let rig = try Rig(c)
        for i in 0..<3 {
            let v = rig.metrics.arrived(ClientKey(id: "key-\(i)", tenant: "key-\(i)", known: false))
            rig.metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
        }
        let s = rig.driver.snapshot()
        #expect(s.keys.first { $0.key == GatewayMetrics.other }?.parent == nil)
        #expect(s.keys.first { $0.key == "key-0" }?.parent == "tenant:key-0")
        #expect(!s.keys.contains { $0.key == "tenant:" + GatewayMetrics.other })
    }

    func conservationHolds(_ r: FleetReport) -> Bool {
        r.keys.allSatisfy { $0.requests == $0.admitted + $0.rejected + $0.timedOut + $0.waiting }
    }
}
