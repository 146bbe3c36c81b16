@testable import Dashboard
import Fleet
import Testing

/// Parts of the screen that the golden files do not pin down.
@Suite struct ViewTests {
    func render(_ state: DashboardState = DashboardState(), _ snapshot: FleetSnapshot = Fixtures.snapshot(),
                width: Int = 80, height: Int = 24) -> [String] {
        DashboardView.render(state, snapshot, width: width, height: height).lines
    }

    @Test func aLongTableScrollsAndSaysHowManyRowsAreHidden() {
        let many = Fixtures.snapshot(keys: (10..<30).map { Fixtures.key("k\($0)") })
        let lines = render(DashboardState(), many)
        #expect(lines[3].contains("k10"))
        #expect(!lines.contains { $0.contains("k29") })
        let rule = lines.first { $0.hasPrefix("─") }!
        #expect(rule.contains("↑0 ↓12"), "\(rule)") // 8 of 20 rows shown at 80×24
    }

    @Test func pausedShowsInTheHeader() {
        var state = DashboardState()
        state.paused = true
        #expect(render(state)[0].contains("‖ paused"))
        #expect(render()[0].contains("▶ running"))
    }

    @Test func liveModeSaysSoFirstAndOffersOnlyTimesOne() {
        let live = Fixtures.snapshot(mode: .live)
        #expect(render(DashboardState(), live)[0].hasPrefix("  LIVE   test"))
        #expect(render(DashboardState(), live)[0].contains("×1"))
        #expect(render(DashboardState(), live, width: 120, height: 40)[0].contains("LIVE: real tasks, real clock"))
        #expect(!render()[0].contains("LIVE"))
    }

    @Test func theInputLineShowsWhatIsTypedAndItsError() {
        var state = DashboardState()
        state.overlay = .input(InputLine(field: .refill, capacity: "20", refill: "x1", untouched: [.capacity], target: "b",
                                         error: "refill: 'x1' is not a number"))
        let lines = render(state)
        #expect(lines[22].hasPrefix(" set b: capacity 20  refill/s x1▏  refill: 'x1' is not a number"))
        #expect(lines[23].hasPrefix(" Enter apply both  Tab capacity/refill  Esc cancel"))
    }

    @Test func theHintBarDropsLessImportantKeysWhenNarrow() {
        let wide = render(width: 200, height: 30)[29]
        let narrow = render(width: 64, height: 20)[19]
        #expect(wide.contains("r restart") && wide.contains("t theme"))
        #expect(narrow.contains("q quit") && narrow.contains("? help"))
        #expect(!narrow.contains("restart"))
        #expect(CellWidth.of(narrow.trimmingCharacters(in: .whitespaces)) <= 64)
    }

    @Test func belowTheMinimumACentredMessageGivesBothSizes() {
        let lines = render(width: 63, height: 20)
        #expect(lines.contains { $0.contains("terminal too small") })
        #expect(lines.contains { $0.contains("63×20 now, needs 64×20") })
        #expect(render(width: 64, height: 20)[0].contains("test"))
    }

    @Test func withoutColourTheGroupsStillDifferByGlyph() {
        var snapshot = Fixtures.snapshot()
        snapshot.groups = ["quiet", "noisy"].map {
            GroupSnapshot(name: $0, clients: 1, requests: 0, admitted: 0, rejected: 0, upstream429: 0,
                          waitMs: WaitPercentiles(), throughput: 0, shareOfAdmitted: 0.5)
        }
        let text = render(DashboardState(), snapshot).joined(separator: "\n")
        #expect(text.contains("○ quiet"))
        #expect(text.contains("● noisy"))
    }

    @Test func theFocusedPaneTitleIsReversed() {
        var state = DashboardState()
        state.focus = .isolation
        let grid = DashboardView.render(state, Fixtures.snapshot(), width: 80, height: 24)
        let ruleY = grid.lines.firstIndex { $0.hasPrefix("─") }!
        let rule = grid.lines[ruleY]
        let x = rule.distance(from: rule.startIndex, to: rule.range(of: "isolation")!.lowerBound) // one column per character here
        #expect(grid[x, ruleY].style.attributes.contains(.reverse))
        let detailX = rule.distance(from: rule.startIndex, to: rule.range(of: "quiet")!.lowerBound)
        #expect(!grid[detailX, ruleY].style.attributes.contains(.reverse))
    }
}
