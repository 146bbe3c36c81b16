@testable import Dashboard
import Fleet
import Testing

/// The bucket table as a tree: tenants over users, groups over keys, folding, natural order,
/// the filter, and group-wide changes.
@Suite struct TreeTests {
    /// Two tenants under hierarchical keying: acme's three quiet users, bigco's scrapers.
    static let hierarchical: FleetSnapshot = Fixtures.snapshot(keys: [
        Fixtures.key("tenant:acme", group: "quiet", waiters: 1, p99: 40),
        Fixtures.key("tenant:bigco", group: "noisy", waiters: 2, p99: 10),
        Fixtures.key("app-10", waiters: 3, p99: 900, parent: "tenant:acme"), Fixtures.key("app-2", parent: "tenant:acme"),
        Fixtures.key("app-1", p99: 50, parent: "tenant:acme"),
        Fixtures.key("scraper-1", group: "noisy", waiters: 7, parent: "tenant:bigco"),
        Fixtures.key("scraper-2", group: "noisy", waiters: 1, parent: "tenant:bigco"),
    ], keying: .hierarchical)

    func ids(_ state: DashboardState, _ snapshot: FleetSnapshot = TreeTests.hierarchical) -> [String] {
        state.model(snapshot).rows.map { row in (row.parent != nil ? "+" : "") + row.id.name }
    }

    func press(_ keys: [Key], _ start: DashboardState = DashboardState(), _ snapshot: FleetSnapshot = TreeTests.hierarchical)
        -> (DashboardState, [Effect]) {
        var state = start, effects: [Effect] = []
        for key in keys {
            let (next, e) = DashboardUpdate.update(state, .key(key), snapshot: snapshot)
            state = next; effects += e
        }
        return (state, effects)
    }

    @Test func naturalOrderPutsApp2BeforeApp10() {
        #expect(["app-10", "app-2", "app-1", "App-3", "app-002"].sorted(by: NaturalOrder.less)
                == ["app-1", "app-002", "app-2", "App-3", "app-10"]) // equal numbers: plain order breaks the tie
        #expect(NaturalOrder.compare("user-9", "user-10") < 0)
        #expect(NaturalOrder.compare("a", "a") == 0)
        #expect(NaturalOrder.compare("a", "a1") < 0)
    }

    @Test func keysFoldUnderTheParentTheSnapshotNames() {
        #expect(ids(DashboardState()) == ["+tenant:acme", "app-1", "app-2", "app-10", "+tenant:bigco", "scraper-1", "scraper-2"])
        // The parent field decides, not the name or the group: app-10 is bigco's here.
        var keys = TreeTests.hierarchical.keys
        keys[2].parent = "tenant:bigco"
        let moved = Fixtures.snapshot(keys: keys, keying: .hierarchical)
        #expect(ids(DashboardState(), moved) == ["+tenant:acme", "app-1", "app-2", "+tenant:bigco", "app-10", "scraper-1", "scraper-2"])
        // A parent the snapshot does not hold leaves its children at the top, in natural order.
        let orphans = Fixtures.snapshot(keys: [Fixtures.key("u-10", parent: "tenant:gone"), Fixtures.key("u-9", parent: "tenant:gone")],
                                        keying: .hierarchical)
        #expect(ids(DashboardState(), orphans) == ["u-9", "u-10"])
        // No parents at all (a driver that knows none): groups fold their keys.
        let unparented = Fixtures.snapshot(keys: TreeTests.hierarchical.keys.map { var k = $0; k.parent = nil; return k },
                                           keying: .hierarchical)
        #expect(ids(DashboardState(), unparented).filter { $0.hasPrefix("+") } == ["+quiet", "+noisy"])
    }

    @Test func theSimulatorNamesEachUsersTenantBucket() throws {
        let sim = try Simulation(scenario: try #require(Scenario.named("noisy-neighbor")), seed: 1)
        try sim.apply(.setKeying(.hierarchical))
        let snapshot = sim.snapshot()
        let parentOf = Dictionary(uniqueKeysWithValues: snapshot.keys.map { ($0.key, $0.parent) })
        #expect(parentOf["user-1"] == "tenant:acme")
        #expect(parentOf["noisy"] == "tenant:noisy-corp")
        #expect(parentOf["tenant:acme"] == .some(nil))
        let rows = DashboardState().model(snapshot).rows
        #expect(rows.filter { $0.parent != nil }.map(\.id.name) == ["tenant:acme", "tenant:noisy-corp"])
        // Per-user keying has no parent buckets: the groups fold the keys.
        try sim.apply(.setKeying(.perUser))
        #expect(sim.snapshot().keys.allSatisfy { $0.parent == nil })
    }

    @Test func parentRowsAggregateTheirChildren() {
        let rows = DashboardState().model(TreeTests.hierarchical).rows
        let acme = try! #require(rows.first { $0.id == .key("tenant:acme") }?.parent)
        #expect(acme.children == 3)
        #expect(acme.waiting == 4) // 3 waiting at app-10 + 1 at the tenant bucket
        #expect(acme.p99 == 900)   // the worst of the parent and its children
    }

    @Test func leftFoldsRightUnfoldsAndZFoldsEverything() {
        // Selected at start: the first bucket row, tenant:acme.
        let (folded, _) = press([.left])
        #expect(ids(folded) == ["+tenant:acme", "+tenant:bigco", "scraper-1", "scraper-2"])
        #expect(ids(press([.left, .right]).0) == ids(DashboardState()))
        // ← on a child selects its parent and folds it.
        let (fromChild, _) = press([.down, .down, .char("h")])
        #expect(fromChild.selectedKey == "tenant:acme")
        #expect(ids(fromChild).count == 4)
        #expect(ids(press([.char("z")]).0) == ["+tenant:acme", "+tenant:bigco"])
        #expect(ids(press([.char("z"), .char("z")]).0).count == 7)
    }

    @Test func bigParentsStartFolded() {
        let many = Fixtures.snapshot(keys: [Fixtures.key("tenant:big")] + (1...17).map { Fixtures.key("u-\($0)", parent: "tenant:big") },
                                     keying: .hierarchical)
        #expect(ids(DashboardState(), many) == ["+tenant:big"])
        #expect(ids(press([.right], DashboardState(), many).0, many).count == 18)
    }

    @Test func perUserKeyingGroupsKeysByClientGroupInScenarioOrder() {
        let snapshot = Fixtures.snapshot() // a, b quiet; c noisy
        #expect(ids(DashboardState(), snapshot) == ["+quiet", "a", "b", "+noisy", "c"])
        var flat = DashboardState()
        flat.tree = false
        #expect(ids(flat, snapshot) == ["a", "b", "c"])
        #expect(press([.char("T")], DashboardState(), snapshot).0.tree == false)
    }

    @Test func sortingOrdersParentsByTheirAggregateAndChildrenWithinThem() {
        var state = DashboardState()
        state.sort = TableSort(.queue) // waiting: bigco 2 + 7 + 1 = 10, acme 1 + 3 = 4
        #expect(ids(state) == ["+tenant:bigco", "scraper-1", "scraper-2", "+tenant:acme", "app-10", "app-1", "app-2"])
        state.sort = TableSort(.queue, descending: false) // ties (app-1, app-2: 0) stay A to Z
        #expect(ids(state) == ["+tenant:acme", "app-1", "app-2", "app-10", "+tenant:bigco", "scraper-2", "scraper-1"])
    }

    @Test func slashFiltersBySubstringAsTypedEnterKeepsItEscClearsIt() {
        let (typing, _) = press([.char("/"), .char("A"), .char("P"), .char("P"), .char("-"), .char("1")])
        #expect(typing.overlay == .find)
        #expect(typing.filter == "APP-1")
        #expect(ids(typing) == ["+tenant:acme", "app-1", "app-10"]) // case-insensitive; parents of matches stay
        let (kept, _) = press([.enter], typing)
        #expect(kept.overlay == nil)
        #expect(kept.filter == "APP-1")
        #expect(press([.escape], kept).0.filter == "")
        #expect(press([.escape], typing).0.filter == "")
        // A filtered-out parent still shows (unfolded) when a child matches, even if folded by hand.
        var folded = DashboardState()
        folded.expanded[.key("tenant:bigco")] = false
        folded.filter = "scraper-2"
        #expect(ids(folded) == ["+tenant:bigco", "scraper-2"])
    }

    @Test func gAndBigGJumpToTheEndsAndPagesMoveByAScreen() {
        #expect(press([.char("G")]).0.selectedKey == "scraper-2")
        #expect(press([.end, .char("g")]).0.selectedKey == "tenant:acme")
        #expect(press([.end, .home]).0.selectedKey == "tenant:acme")
        var small = DashboardState()
        small.visibleRows = 3
        #expect(press([.pageDown], small).0.selectedKey == "app-2")     // two rows down (a page keeps one row of context)
        #expect(press([.pageDown, .pageUp], small).0.selectedKey == "tenant:acme")
    }

    @Test func withAPaneFocusedTheArrowsScrollItNotTheTable() {
        let (state, _) = press([.tab, .down, .down, .char("j")])
        #expect(state.focus == .detail)
        #expect(state.paneScroll[.detail] == 3)
        #expect(state.selectedKey == nil || state.selectedKey == "tenant:acme")
        #expect(press([.tab, .tab, .pageDown, .char("g")]).0.paneScroll[.isolation] == 0)
    }

    @Test func changesOnAGroupRowGoToEveryKeyOfTheGroup() {
        let snapshot = Fixtures.snapshot() // a, b quiet (capacity 20)
        let (state, effects) = press([.up, .char("+")], DashboardState(), snapshot) // select the quiet row
        #expect(state.selection == .group("quiet"))
        #expect(effects == [.command(.setCapacity(25, key: "a")), .command(.setCapacity(25, key: "b"))])
        let (_, set) = press([.up, .enter] + "30".map { .char($0) } + [.enter], DashboardState(), snapshot)
        #expect(set == [.command(.setCapacity(30, key: "a")), .command(.setCapacity(30, key: "b"))])
    }
}
