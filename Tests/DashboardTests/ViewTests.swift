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

/// The list of things that misled, each pinned down.
@Suite struct NumbersAndPaintTests {
    @Test func aThemeWithMainBgPaintsEveryCell() throws {
        let light = try #require(ThemeCatalog.builtIn.first { $0.name == "light" })
        let palette = Palette(theme: light, depth: .truecolor)
        let grid = DashboardView.render(DashboardState(), Fixtures.snapshot(), width: 100, height: 30,
                                        context: ViewContext(palette: palette, glyphs: .unicode))
        #expect(grid.cells.allSatisfy { $0.style.bg != .terminalDefault })
        #expect(grid.cells.allSatisfy { $0.style.fg != .terminalDefault })
    }

    @Test func compactNumbersKeepTheirSignificantDigits() {
        #expect(Format.compact(12.5) == "12.5")
        #expect(Format.compact(11.25) == "11.3")
        #expect(Format.compact(8192) == "8.19k")
        #expect(Format.compact(20_000) == "20k")
        #expect(Format.compact(0.25) == "0.25")
        #expect(Format.compact(1_234_567) == "1.23M")
        #expect(Format.count(4) == "4")
        #expect(Format.count(12_345) == "12.3k")
    }

    @Test func tokensAndCapacityFitTheirColumnWhateverTheirSize() {
        // After a preset in llm-tokens: 8,192 of 20,000 tokens; after `+`, a capacity of 12.5.
        let snapshot = Fixtures.snapshot(keys: [Fixtures.key("chat-1", capacity: 20_000, tokens: 8192),
                                                Fixtures.key("chat-2", capacity: 12.5, tokens: 11.25)])
        let lines = DashboardView.render(DashboardState(), snapshot, width: 120, height: 30).lines
        #expect(lines.contains { $0.contains(" 8.19k/20k ") })
        #expect(lines.contains { $0.contains(" 11.3/12.5 ") })
        #expect(!lines.joined().contains("…"))
    }

    @Test func inFlightKeepsItsLabelOrGoesWhole() {
        var snapshot = Fixtures.snapshot()
        snapshot.upstream.inFlight = 4
        for width in [64, 80, 100, 120, 160] {
            let line = DashboardView.render(DashboardState(), snapshot, width: width, height: 30).lines[1]
            let shown = line.trimmingCharacters(in: .whitespaces)
            #expect(shown.hasSuffix("in flight 4") || !shown.hasSuffix(" 4"), "width \(width): \(line)")
        }
    }

    @Test func aZeroSeriesDrawsABaselineAndNoSamplesSaySo() {
        var grid = Grid(width: 20, height: 1)
        Sparkline(samples: [0, 0, 0, 0], maximum: 1).render(into: &grid, at: grid.bounds)
        #expect(grid.lines[0] == "                  ⠤⠤") // four samples, two per cell, newest at the right
        var empty = Grid(width: 20, height: 1)
        Sparkline(samples: [], maximum: 1).render(into: &empty, at: empty.bounds)
        #expect(empty.lines[0].hasPrefix("no data yet"))
        var chart = Grid(width: 30, height: 4)
        Chart(title: "tokens", unit: "tok", samples: [], secondsPerSample: 1).render(into: &chart, at: chart.bounds)
        #expect(chart.lines.joined().contains("no data yet"))
    }

    @Test func aBusyKeyWithoutSeriesSaysNotChartedNotNoDataYet() {
        var busy = Fixtures.key("app-1000")
        busy.requests = 12
        let charted = DashboardView.render(DashboardState(), Fixtures.snapshot(keys: [busy]), width: 100, height: 30).lines.joined()
        #expect(charted.contains("not charted"))
        #expect(!charted.contains("no data yet"))
        let fresh = DashboardView.render(DashboardState(), Fixtures.snapshot(keys: [Fixtures.key("new")]), width: 100, height: 30)
        #expect(fresh.lines.joined().contains("no data yet"))
    }

    @Test func everyGroupOfTheScenarioGetsAColumnAndItsOwnMarker() throws {
        for (scenario, names) in [("burst", ["steady", "bursty"]), ("upstream-429", ["users"])] {
            let fleet = try makeFleet(FleetOptions(scenario: scenario, seed: 1))
            for _ in 0..<50 { fleet.advance(by: 100_000_000) }
            let text = DashboardView.render(DashboardState(), fleet.snapshot(), width: 120, height: 40).lines.joined(separator: "\n")
            let marks = ["○", "●"]
            for (i, name) in names.enumerated() { #expect(text.contains("\(marks[i]) \(name)"), "\(scenario): \(name)") }
            #expect(!text.contains("● noisy") && !text.contains("○ quiet"), "\(scenario) shows a group it does not have")
        }
        // Six groups side by side.
        var six = Fixtures.snapshot()
        six.groups = (1...6).map { GroupSnapshot(name: "g\($0)", clients: 1, requests: 0, admitted: 0, rejected: 0, upstream429: 0,
                                                  waitMs: WaitPercentiles(), throughput: 0, shareOfAdmitted: 0) }
        let header = DashboardView.render(DashboardState(), six, width: 140, height: 40).lines.first { $0.contains("○ g1") } ?? ""
        for (i, mark) in ["○", "●", "◇", "◆", "△", "▲"].enumerated() { #expect(header.contains("\(mark) g\(i + 1)"), "\(header)") }
    }

    @Test func aGroupWhoseEveryRequestIsRefusedIsCalledOut() {
        var snapshot = Fixtures.snapshot(keys: [
            KeySnapshot(key: "paying-1", group: "paying", capacity: 20, refillPerSecond: 4, tokens: 20, waiters: 0, oldestWaitSeconds: 0,
                        requests: 40, admitted: 0, rejected: 40, upstream429: 0, maxQueue: 0, waitMs: WaitPercentiles(),
                        admittedPerSecond: [], tokenSeries: [], queueSeries: []),
        ])
        snapshot.groups = [GroupSnapshot(name: "paying", clients: 1, requests: 40, admitted: 0, rejected: 40, upstream429: 0,
                                         waitMs: WaitPercentiles(), throughput: 0, shareOfAdmitted: 0)]
        let lines = DashboardView.render(DashboardState(), snapshot, width: 120, height: 30).lines
        #expect(lines[28].contains("⚠ every paying request refused (40 of 40): a cost above the bucket's capacity 20 is never admitted"))
        var message = DashboardState()
        message.message = StatusMessage("sorted by p99↓")
        #expect(DashboardView.render(message, snapshot, width: 120, height: 30).lines[28].contains("sorted by")) // a message goes first
    }
}
