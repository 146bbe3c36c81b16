@testable import Dashboard
import Fleet
import Testing

/// Keys through the pure update function: no terminal, no fleet, exact effects.
@Suite struct UpdateTests {
    let snapshot = Fixtures.snapshot() // keys a, b (capacity 20, refill 4), c
    let presets = ["openai-gpt-4o-tier1", "anthropic-sonnet-tier1"]

    func press(_ keys: [Key], _ start: DashboardState? = nil, snapshot: FleetSnapshot? = nil) -> (DashboardState, [Effect]) {
        var state = start ?? DashboardState(themeNames: ["default", "light"], presetNames: presets)
        var effects: [Effect] = []
        for key in keys {
            let (next, e) = DashboardUpdate.update(state, .key(key), snapshot: snapshot ?? self.snapshot)
            state = next; effects += e
        }
        return (state, effects)
    }

    func chars(_ s: String) -> [Key] { s.map { .char($0) } }

    @Test func qAndCtrlCQuit() {
        #expect(press([.char("q")]).1 == [.quit])
        #expect(press([.ctrl("c")]).0.quit)
    }

    @Test func ctrlCQuitsEvenFromTheHelpTheInputLineAndThePicker() {
        #expect(press([.char("?"), .ctrl("c")]).1 == [.quit])
        #expect(press([.enter, .char("1"), .ctrl("c")]).1 == [.quit])
        #expect(press([.char("p"), .ctrl("c")]).1 == [.quit])
    }

    @Test func jkAndArrowsMoveTheSelectionAndStopAtTheEnds() {
        // Rows: ▾ quiet, a, b, ▾ noisy, c; the first bucket row is selected to begin with.
        #expect(press([.char("j")]).0.selectedKey == "b")
        #expect(press([.down, .down, .down, .down]).0.selectedKey == "c")
        #expect(press([.down, .char("k")]).0.selectedKey == "a")
        #expect(press([.up]).0.selection == .group("quiet"))
        #expect(press([.up, .up]).0.selection == .group("quiet"))
    }

    @Test func plusAndMinusScaleTheSelectedCapacityBy125() {
        #expect(press([.char("j"), .char("+")]).1 == [.command(.setCapacity(25, key: "b"))])
        #expect(press([.char("j"), .char("-")]).1 == [.command(.setCapacity(16, key: "b"))])
    }

    @Test func bracketsScaleTheSelectedRefill() {
        #expect(press([.char("]")]).1 == [.command(.setRefill(5, key: "a"))])
        #expect(press([.char("[")]).1 == [.command(.setRefill(3.2, key: "a"))])
    }

    @Test func aTogglesApplyToAllKeys() {
        let (state, effects) = press([.char("a"), .char("+")])
        #expect(state.applyToAll)
        #expect(effects == [.command(.setCapacity(25, key: nil))])
        #expect(!press([.char("a"), .char("a")]).0.applyToAll)
    }

    @Test func enterTypesAnExactCapacityAndTabSwitchesToRefill() {
        #expect(press([.enter] + chars("30") + [.enter]).1 == [.command(.setCapacity(30, key: "a"))])
        #expect(press([.enter, .tab] + chars("2.5") + [.enter]).1 == [.command(.setRefill(2.5, key: "a"))])
        #expect(press([.enter] + chars("301") + [.backspace, .enter]).1 == [.command(.setCapacity(30, key: "a"))])
    }

    @Test func oneFormSetsCapacityAndRefillTogetherWithoutTextFollowingIntoTheOtherField() {
        // The issue's case: 20, Tab, 1, Enter set refill to 201/s.
        let (state, effects) = press([.enter] + chars("20") + [.tab] + chars("1") + [.enter])
        #expect(effects == [.command(.setRefill(1, key: "a"))]) // capacity 20 was already 20: only refill is sent
        #expect(state.overlay == nil)
        #expect(press([.enter] + chars("30") + [.tab] + chars("2.5") + [.enter]).1
                == [.command(.setCapacity(30, key: "a")), .command(.setRefill(2.5, key: "a"))])
    }

    @Test func aRangeErrorKeepsTheFormOpenWithTheInput() {
        let (state, effects) = press([.enter] + chars("1e12") + [.enter])
        #expect(effects.isEmpty)
        #expect(state.overlay == .input(InputLine(capacity: "1e12", refill: "4", untouched: [.refill], target: "a",
                                                  error: "capacity must be at most 1000000000, got 1000000000000")))
        let (zero, _) = press([.enter, .tab] + chars("0") + [.enter])
        guard case let .input(line)? = zero.overlay else { Issue.record("form closed on refill 0"); return }
        #expect(line.field == .refill)
        #expect(line.refill == "0")
        #expect(line.error == "refill must be > 0, got 0")
    }

    @Test func invalidInputGetsAMessageAndKeepsTheLineOpen() {
        let (state, effects) = press([.enter] + chars("abc") + [.enter])
        #expect(effects.isEmpty)
        guard case let .input(line)? = state.overlay else { Issue.record("input line closed"); return }
        #expect(line.error == "capacity: 'abc' is not a number")
        let (negative, none) = press([.enter] + chars("-5") + [.enter])
        #expect(none.isEmpty)
        #expect(negative.overlay == .input(InputLine(capacity: "-5", refill: "4", untouched: [.refill], target: "a",
                                                     error: "capacity must be > 0, got -5")))
    }

    @Test func escapeCancelsTheInputLine() {
        let (state, effects) = press([.enter] + chars("7") + [.escape])
        #expect(state.overlay == nil)
        #expect(effects.isEmpty)
    }

    @Test func sCyclesKeyingAndNTogglesNoisyLoad() {
        #expect(press([.char("s")]).1 == [.command(.setKeying(.shared))])
        #expect(press([.char("s")], snapshot: Fixtures.snapshot(keying: .hierarchical)).1 == [.command(.setKeying(.perUser))])
        #expect(press([.char("n")]).1 == [.command(.setNoisy(false))])
        #expect(press([.char("n")], snapshot: Fixtures.snapshot(noisy: false)).1 == [.command(.setNoisy(true))])
    }

    @Test func spacePausesAndDotStepsOnlyWhilePaused() {
        let (paused, effects) = press([.char(" ")])
        #expect(paused.paused)
        #expect(effects == [.setPaused(true)])
        #expect(press([.char(" "), .char(".")]).1 == [.setPaused(true), .step])
        #expect(press([.char(".")]).1 == [])
        #expect(press([.char(" "), .char(" ")]).0.paused == false)
    }

    @Test func speedStepsThroughTheLadderAndStopsAtItsEnds() {
        #expect(press([.char(">")]).0.speed == 2)
        #expect(press([.char("<")]).0.speed == 0.5)
        #expect(press(Array(repeating: .char(">"), count: 20)).0.speed == 1000)
        #expect(press(Array(repeating: .char("<"), count: 20)).0.speed == 0.1)
    }

    @Test func liveModeOffersOnlyRealTime() {
        let live = DashboardState(mode: .live, speed: 50)
        #expect(live.speed == 1)
        let (state, _) = press([.char(">")], live, snapshot: Fixtures.snapshot(mode: .live))
        #expect(state.speed == 1)
        #expect(state.message?.isError == true)
        let (paused, effects) = press([.char(" ")], live, snapshot: Fixtures.snapshot(mode: .live))
        #expect(effects == [.setPaused(true)])
        #expect(paused.message == StatusMessage("paused: Space resumes")) // no ". steps": live mode cannot step
        #expect(press([.char(" "), .char(".")], live, snapshot: Fixtures.snapshot(mode: .live)).1 == [.setPaused(true)])
    }

    @Test func pOpensThePresetPickerAndEnterAppliesTheChoice() {
        let (open, _) = press([.char("p")])
        #expect(open.overlay == .picker(PresetPicker(names: presets, index: 0)))
        #expect(press([.char("p"), .char("j"), .enter]).1 == [.command(.applyPreset("anthropic-sonnet-tier1"))])
        #expect(press([.char("p"), .escape]).0.overlay == nil)
    }

    @Test func noPresetsIsAMessageNotAnEmptyPicker() {
        let (state, effects) = press([.char("p")], DashboardState())
        #expect(state.overlay == nil)
        #expect(effects.isEmpty)
        #expect(state.message?.isError == true)
    }

    @Test func tCyclesThemesAndRRestarts() {
        #expect(press([.char("t")]).1 == [.setTheme("light")])
        #expect(press([.char("t"), .char("t")]).1 == [.setTheme("light"), .setTheme("default")])
        #expect(press([.char("r")]).1 == [.restart])
    }

    @Test func helpOpensWithQuestionMarkOrF1AndAnyKeyClosesItWithoutActing() {
        #expect(press([.char("?")]).0.overlay == .help)
        #expect(press([.function(1)]).0.overlay == .help)
        let (closed, effects) = press([.char("?"), .char("q")])
        #expect(closed.overlay == nil)
        #expect(!closed.quit)
        #expect(effects.isEmpty)
    }

    @Test func tabMovesBetweenPanes() {
        #expect(press([.tab]).0.focus == .detail)
        #expect(press([.tab, .tab]).0.focus == .isolation)
        #expect(press([.tab, .tab, .tab]).0.focus == .table)
    }

    func keys(_ state: DashboardState, _ snapshot: FleetSnapshot? = nil) -> [String] {
        let snapshot = snapshot ?? self.snapshot
        return state.model(snapshot).rows.map(\.id.name)
    }

    @Test func oCyclesTheSortColumnBigOReversesItAndTheSelectionFollowsItsKey() {
        var flat = DashboardState()
        flat.tree = false
        let (byGroup, _) = press([.char("j"), .char("o")], flat) // select b; key → group
        #expect(byGroup.sort == TableSort(.group))
        #expect(keys(byGroup) == ["c", "a", "b"]) // noisy < quiet, then natural order
        #expect(byGroup.selectedKey == "b")
        var byQueue = flat
        byQueue.sort = TableSort(.queue)
        #expect(keys(byQueue) == ["c", "b", "a"]) // 9, 5, 0 waiters: numbers biggest first
        #expect(keys(press([.char("O")], byQueue).0) == ["a", "b", "c"])
        byQueue.sort = TableSort(.p99)
        #expect(keys(byQueue) == ["b", "c", "a"])
        #expect(press([.char("O")]).0.sort == TableSort(.key, descending: true))
    }

    @Test func everyColumnCanBeTheSortColumn() {
        let (state, _) = press(Array(repeating: .char("o"), count: SortColumn.allCases.count))
        #expect(state.sort.column == .key) // walked every column and came back
    }

    @Test func selectionScrollsTheTable() {
        let keys = (0..<10).map { Fixtures.key("k\($0)") }
        let big = Fixtures.snapshot(keys: keys)
        var state = DashboardUpdate.update(DashboardState(), .layout(visibleRows: 3), snapshot: big).0 // one group: a flat table
        for _ in 0..<5 { state = DashboardUpdate.update(state, .key(.down), snapshot: big).0 }
        #expect(state.selectedKey == "k5")
        #expect(state.scroll == 3)
        for _ in 0..<4 { state = DashboardUpdate.update(state, .key(.up), snapshot: big).0 }
        #expect(state.scroll == 1)
    }

    @Test func aFailedCommandBecomesAnErrorMessage() {
        let (state, _) = DashboardUpdate.update(DashboardState(), .failed("capacity must be > 0, got -1"), snapshot: snapshot)
        #expect(state.message == StatusMessage("capacity must be > 0, got -1", isError: true))
    }

    @Test func everyBindingIsReachableAndKeysAreUnique() {
        let keys = KeyTable.bindings.flatMap(\.keys)
        #expect(Set(keys).count == keys.count, "a key is bound twice")
        #expect(Set(KeyTable.bindings.map(\.action)) == Set(Action.allCases))
    }

    @Test func theHelpScreenListsEveryBindingFromTheTable() {
        let (state, _) = press([.char("?")])
        let text = DashboardView.render(state, snapshot, width: 120, height: 40).lines.joined(separator: "\n")
        for binding in KeyTable.bindings {
            #expect(text.contains(binding.help), "help is missing '\(binding.help)'")
            #expect(text.contains(KeyTable.label(binding, glyphs: .unicode)))
        }
    }

    @Test func aChangeRecordsABaselineAndTheDetailShowsItsEffect() {
        let (state, _) = press([.char("j"), .char("]")]) // b: p99 900 ms, 5 waiters
        #expect(state.baseline?.key == "b")
        #expect(state.baseline?.keyP99 == 900)
        var later = Fixtures.snapshot(keys: [Fixtures.key("a"), Fixtures.key("b", waiters: 1, p99: 120)])
        later.now = 5_000_000_000
        #expect(state.baseline?.effect(in: later) == "p99 900ms → 120ms, queue 5 → 1")
        #expect(state.baseline?.effect(in: snapshot) == nil) // no time has passed yet
    }

    @Test func fleetWideChangesCompareGroups() {
        var before = snapshot
        before.groups = [GroupSnapshot(name: "quiet", clients: 4, requests: 0, admitted: 0, rejected: 0, upstream429: 0,
                                       waitMs: WaitPercentiles(p99: 10), throughput: 0, shareOfAdmitted: 0)]
        let (state, _) = press([.char("s")], snapshot: before)
        var after = before
        after.now = 3_000_000_000
        after.groups[0].waitMs.p99 = 2_400
        #expect(state.baseline?.effect(in: after) == "quiet p99 10ms → 2.4s")
        // Right after a switch nothing may be admitted yet: the note says who waits, and how long.
        after.groups[0].waitMs.p99 = 10
        after.groups[0].waiting = 33
        after.groups[0].oldestWaitSeconds = 8.9
        #expect(state.baseline?.effect(in: after) == "quiet p99 10ms → 10ms (33 waiting 8.9s)")
    }

    @Test func exactValuesKeepTheirDecimals() {
        #expect(Format.exact(12.5) == "12.5")
        #expect(Format.exact(20) == "20")
        #expect(Format.exact(3.125) == "3.125")
        #expect(Format.exact(0.1) == "0.1")
    }
}
