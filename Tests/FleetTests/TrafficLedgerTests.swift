import Testing
import Synchronization
@testable import Fleet
import TokenBucket

/// The seam for real requests (a gateway): what a driver reports becomes the same snapshot and
/// report as the simulator's, on the ledger's clock.
@Suite struct TrafficLedgerTests {
    @Test func reportedRequestsBecomeTheSnapshotAndReportEveryDriverGives() throws {
        let clock = ManualClock()
        let ledger = TrafficLedger(name: "serve", keying: .perTenant, clock: clock, upstream: UpstreamSpec(name: "openai"))
        let a = ledger.arrived(key: "acme", group: "acme", cost: 1)
        ledger.admitted(a)                                       // at once
        ledger.upstreamAnswered(a, status: 200, tokens: 800)
        let b = ledger.arrived(key: "acme", group: "acme", cost: 1)
        ledger.waiting(b)
        let c = ledger.arrived(key: "bulk", group: "bulk", cost: 50)
        ledger.refused(c, afterWaiting: false)                   // cost above capacity, say
        ledger.keyConfigured("acme", capacity: 10, refillPerSecond: 2, tokens: 0)
        clock.advance(by: .seconds(2))
        let s1 = ledger.snapshot()
        let acme = try #require(s1.keys.first { $0.key == "acme" })
        #expect(acme.requests == 2 && acme.admitted == 1 && acme.waiters == 1)
        #expect(acme.capacity == 10 && acme.refillPerSecond == 2)
        #expect(acme.oldestWaitSeconds == 2)
        #expect(acme.waitMs.lowerBound && acme.waitMs.max == 2_000)   // b has waited 2 s so far
        #expect(s1.groups.first { $0.name == "acme" }?.waiting == 1)
        #expect(s1.upstream.inFlight == 1)
        ledger.admitted(b)
        ledger.upstreamAnswered(b, status: 429, tokens: 0)
        ledger.completed(b, failed: true)
        ledger.completed(a, failed: false)
        let r = try #require(ledger.reportSoFar())
        let acmeRow = try #require(r.keys.first { $0.key == "acme" })
        #expect(acmeRow.admitted == 2 && acmeRow.waiting == 0 && acmeRow.upstream429 == 1)
        #expect(acmeRow.waitMs.max == 2_000 && !acmeRow.waitMs.lowerBound)
        #expect(r.keys.first { $0.key == "bulk" }?.rejected == 1)
        #expect(r.upstream.name == "openai" && r.upstream.completed == 1 && r.upstream.failed == 1)
        #expect(r.upstream.requests == 2 && r.upstream.status429 == 1)
        #expect(conservationFailures(ledgerMetrics(r)) == [])
    }

    @Test func commandsGoToTheGatewayWhichOwnsTheLimiters() throws {
        let seen = Mutex<[FleetCommand]>([])
        let ledger = TrafficLedger(name: "serve", keying: .perTenant, clock: ManualClock(),
                                   steer: { c in seen.withLock { $0.append(c) } })
        try ledger.apply(.setRefill(4, key: "acme"))
        try ledger.apply(.setKeying(.shared))
        #expect(seen.withLock { $0 } == [.setRefill(4, key: "acme"), .setKeying(.shared)])
        #expect(ledger.snapshot().keying == .shared)
        let refusing = TrafficLedger(name: "serve", keying: .perTenant, clock: ManualClock())
        #expect(throws: FleetError.self) { try refusing.apply(.setNoisy(false)) }
    }

    /// Per key: requests = admitted + rejected + timed out + moved + waiting, from a report.
    @Test func aParentLookupMakesParentRowsThatCountTheirKeysRequests() throws {
        let clock = ManualClock()
        // Whether keys have a parent now (a keying switch, as a gateway's dashboard makes it).
        let tenants = Mutex(true)
        let ledger = TrafficLedger(name: "serve", keying: .hierarchical, clock: clock,
                                   parent: { key, group in tenants.withLock { $0 } && key != "lone" ? "tenant:" + group : nil })
        ledger.parentConfigured("tenant:acme", capacity: 40, refillPerSecond: 4, tokens: 38)   // before any key names it
        let a = ledger.arrived(key: "app-1", group: "acme", cost: 1)
        ledger.admitted(a)
        let b = ledger.arrived(key: "app-2", group: "acme", cost: 1)
        ledger.waiting(b)
        let c = ledger.arrived(key: "app-2", group: "acme", cost: 1)
        ledger.refused(c, afterWaiting: false)
        let d = ledger.arrived(key: "lone", group: "acme", cost: 1)
        ledger.admitted(d)
        clock.advance(by: .seconds(1))
        let s = ledger.snapshot()
        #expect(s.keys.map(\.key) == ["app-1", "tenant:acme", "app-2", "lone"])
        #expect(s.keys.map(\.parent) == ["tenant:acme", nil, "tenant:acme", nil])
        let acme = try #require(s.keys.first { $0.key == "tenant:acme" })
        #expect(acme.capacity == 40 && acme.refillPerSecond == 4 && acme.tokens == 38)
        #expect(acme.requests == 3 && acme.admitted == 1 && acme.rejected == 1 && acme.waiters == 1)
        #expect(acme.oldestWaitSeconds == 1)
        // The group counts each request once.
        #expect(s.groups.first { $0.name == "acme" }?.requests == 4)
        #expect(conservationFailures(ledgerMetrics(try #require(ledger.reportSoFar()))) == [])
        // No parents any more: no parent rows, no parent names.
        tenants.withLock { $0 = false }
        let flat = ledger.snapshot()
        #expect(flat.keys.map(\.key) == ["app-1", "app-2", "lone"])
        #expect(flat.keys.allSatisfy { $0.parent == nil })
    }

    func ledgerMetrics(_ r: FleetReport) -> [(String, Int, Int)] {
        r.keys.map { ($0.key, $0.requests, $0.admitted + $0.rejected + $0.timedOut + $0.moved + $0.waiting) }
    }
    func conservationFailures(_ rows: [(String, Int, Int)]) -> [String] {
        rows.filter { $0.1 != $0.2 }.map { "\($0.0): \($0.1) != \($0.2)" }
    }
}
