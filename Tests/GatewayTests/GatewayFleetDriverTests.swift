import Fleet
import Testing
import TokenBucket
@testable import Gateway

@Suite("Gateway dashboard driver")
struct GatewayFleetDriverTests {
    @Test("rows per key with their tenant as group; dashboard edits reach the live limits")
    func driver() async throws {
        var c = testConfig(capacity: 5, refill: 0.001)
        c.mock = true
        c.keys = [KeyEntry(name: "alice", secret: "sk-a", tenant: "acme")]
        let server = try GatewayServer(config: c, mock: MockUpstreamConfiguration())
        let limits = server.responder.limits
        let metrics = server.responder.metrics
        let alice = ClientKey(id: "alice", tenant: "acme", known: true)
        for _ in 0..<2 {
            metrics.arrived(alice)
            guard case .admitted(let t) = try await limits.admit(alice, estimate: nil, maxWait: .zero) else {
                Issue.record("not admitted"); break
            }
            metrics.decided(alice, admittedAfter: t.waited, limited: false, estimated: 0)
        }
        let driver = GatewayFleetDriver(server: server)
        let snapshot = driver.snapshot()
        #expect(snapshot.mode == .live)
        #expect(snapshot.keys.map(\.key) == ["alice"])
        #expect(snapshot.keys.first?.group == "acme")
        #expect(snapshot.keys.first?.admitted == 2)
        #expect((snapshot.keys.first?.tokens ?? 0) >= 3 && (snapshot.keys.first?.tokens ?? 0) < 3.1)
        #expect(snapshot.groups.map(\.name) == ["acme"])

        try driver.apply(.setCapacity(20, key: "alice"))
        #expect(limits.spec(bucket: "alice").capacity == 20)
        #expect(limits.spec(bucket: "someone-else").capacity == 5)
        try driver.apply(.setRefill(3, key: nil))
        #expect(limits.spec(bucket: "someone-else").refill == 3)
        try driver.apply(.setKeying(.shared))
        #expect(limits.keying == .shared)
        #expect(driver.snapshot().keying == .shared)
        try driver.apply(.applyPreset("OpenAI gpt-4o Tier 1"))
        let preset = try #require(ProviderPreset.named("OpenAI gpt-4o Tier 1"))
        #expect(limits.spec(bucket: "shared").refill == preset.limits.requests?.refill.perSecond)
        #expect(throws: (any Error).self) { try driver.apply(.setNoisy(false)) }
        #expect(throws: (any Error).self) { try driver.apply(.setCapacity(-1, key: nil)) }
        try await server.client.shutdown()
    }
}
