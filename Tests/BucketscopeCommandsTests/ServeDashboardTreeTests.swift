import Dashboard
import Foundation
import Fleet
import Testing
import TokenBucket
@testable import Gateway

/// `serve`'s dashboard under hierarchical keying, rendered into an in-memory grid: the keys fold
/// under their tenants' buckets as the simulator's hierarchical scenario shows them.
@Suite struct ServeDashboardTreeTests {
    static func config(_ keying: GatewayKeying) -> GatewayConfig {
        var c = GatewayConfig()
        c.mock = true
        c.keying = keying
        c.limits = LimitSpec(capacity: 10, refill: 0.001)
        c.parent = LimitSpec(capacity: 20, refill: 0.001)
        c.keys = [KeyEntry(name: "alice", secret: "sk-a", tenant: "acme"), KeyEntry(name: "bob", secret: "sk-b", tenant: "acme"),
                  KeyEntry(name: "carol", secret: "sk-c", tenant: "globex")]
        return c
    }

    /// The dashboard's lines after one request from each of alice, bob (acme) and carol (globex).
    func screen(_ keying: GatewayKeying) async throws -> [String] {
        let limits = try GatewayLimits(Self.config(keying))
        let metrics = GatewayMetrics(trackedKeys: 100)
        let driver = GatewayFleetDriver(limits: limits, metrics: metrics, clock: ManualClock(), name: "serve", upstream: UpstreamSpec(name: "mock upstream"))
        defer { driver.shutdown() }
        for (id, tenant) in [("alice", "acme"), ("bob", "acme"), ("carol", "globex")] {
            let client = ClientKey(id: id, tenant: tenant, known: true)
            let visit = metrics.arrived(client)
            guard case .admitted = try await limits.admit(client, estimate: nil, maxWait: .zero) else {
                Issue.record("\(id) not admitted"); return []
            }
            metrics.decided(visit, admittedAfter: .zero, limited: false, estimated: 0)
        }
        return DashboardView.render(DashboardState(), driver.snapshot(), width: 100, height: 30).lines
    }

    /// The table's rows: the lines between the column header and the rule under the table.
    func rows(_ lines: [String]) throws -> [String] {
        let header = try #require(lines.firstIndex { $0.contains("key↑") })
        let rule = try #require(lines[header...].firstIndex { $0.hasPrefix("─") })
        return Array(lines[(header + 1)..<rule])
    }

    /// A row's fold mark, indentation and name, without the selection mark and the columns:
    /// "▾ tenant:acme (2)", "  alice".
    func names(_ rows: [String]) -> [String] {
        rows.map { row in
            let text = row.dropFirst(2)
            let indent = text.prefix { $0 == " " }
            return indent + (text.dropFirst(indent.count).components(separatedBy: "  ").first ?? "")
        }
    }

    @Test func hierarchicalKeysFoldUnderTheirTenantsBuckets() async throws {
        let rows = try rows(try await screen(.hierarchical))
        #expect(names(rows) == ["▾ tenant:acme (2)", "  alice", "  bob", "▾ tenant:globex (1)", "  carol"])
        // The tenant rows are the tenants' buckets: capacity 20 ([parent]), a token per request taken;
        // the keys' own buckets hold 10.
        #expect(rows[0].contains(" 18/20 ") && rows[3].contains(" 19/20 "))
        #expect(rows[1].contains(" 9/10 ") && rows[4].contains(" 9/10 "))
    }

    @Test func perKeyFoldsByGroupInstead() async throws {
        let rows = try rows(try await screen(.perKey))
        #expect(!rows.contains { $0.contains("tenant:") })
        #expect(names(rows) == ["▾ acme (2)", "  alice", "  bob", "▾ globex (1)", "  carol"])
    }
}
