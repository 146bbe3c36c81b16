import Compare
import Dashboard
import Fleet
import Testing

@Suite struct CompareViewTests {
    /// Key "a": capacity 2, refill 1/s, so windows of 2 per 2 s and 1 in progress.
    func snapshot(at seconds: Double, requests: Int, capacity: Double = 2) -> FleetSnapshot {
        var key = Fixtures.key("a", capacity: capacity, refill: 1, tokens: 2)
        key.requests = requests
        var s = Fixtures.snapshot(keys: [key])
        s.now = Int64(seconds * 1e9)
        return s
    }

    /// Four requests in the first second, spread to 0.25, 0.5, 0.75 and 1.0 s.
    func fedFeed() -> CompareFeed {
        let start = snapshot(at: 0, requests: 0)
        var feed = CompareFeed(start, budgetFrom: start.keys[0])
        let next = snapshot(at: 1, requests: 4)
        feed.observe(next, budgetFrom: next.keys[0])
        return feed
    }

    @Test func eachKeysNewRequestsAreFedEvenlyToEveryAlgorithm() {
        let feed = fedFeed()
        // Bucket 2 + 1/s: 0.25 and 0.5 taken, then 0.5 and 0.75 tokens: refused.
        // Queue draining 1/s, 2 ahead at most: 0.25, 1.25, 2.25, then 2.25 ahead: refused.
        // Windows (2 per 2 s): 2 then refused. One in progress for 1 s: only the first.
        #expect(feed.algorithms == Algorithm.allCases)
        #expect(feed.refused == [2, 2, 1, 2, 2, 2, 3])
        #expect(feed.p99Wait(2) == 1_500_000_000)   // the queue's third request: 2.25 − 0.75
        #expect(feed.admittedPerSecond(0) == 2)     // 2 admitted in the 1 s seen so far
    }

    @Test func editingTheBucketRestartsEveryAlgorithmOnTheNewBudget() {
        var feed = fedFeed()
        let edited = snapshot(at: 2, requests: 4, capacity: 5)
        feed.observe(edited, budgetFrom: edited.keys[0])
        #expect(feed.capacity == 5)
        #expect(feed.comparison?.budget.burst == 5_000_000_000)
        #expect(feed.comparison?.budget.window == 5_000_000_000)   // W = B / R
    }

    @Test func selectingAKeyWithTheSameBucketKeepsTheRows() {
        var feed = fedFeed()
        var other = snapshot(at: 2, requests: 4)
        var b = Fixtures.key("b", capacity: 2, refill: 1, tokens: 2)
        b.requests = 0
        other.keys.append(b)
        feed.observe(other, budgetFrom: b)
        #expect(feed.budgetKey == "b")
        #expect(feed.refused == [2, 2, 1, 2, 2, 2, 3])
    }

    @Test func aRestartedFleetStartsTheComparisonOver() {
        var feed = fedFeed()
        let restarted = snapshot(at: 0.5, requests: 1)
        feed.observe(restarted, budgetFrom: restarted.keys[0])
        #expect(feed.refused == Array(repeating: 0, count: 7))
        #expect(feed.now == 500_000_000)
    }

    @Test func cTogglesTheViewAndTheHelpListsIt() {
        let s = snapshot(at: 0, requests: 0)
        let (on, _) = DashboardUpdate.update(DashboardState(), .key(.char("c")), snapshot: s)
        #expect(on.compare?.budgetKey == "a")
        let (off, _) = DashboardUpdate.update(on, .key(.char("c")), snapshot: s)
        #expect(off.compare == nil)
        #expect(KeyTable.binding(for: .toggleCompare)?.keys == [.char("c")])
    }

    @Test func rowsShowStateRatesRefusalsAndTheStrip() {
        var grid = Grid(width: 80, height: 10)
        CompareView.render(fedFeed(), selected: "a", into: &grid, at: Rect(x: 0, y: 0, width: 80, height: 10),
                           context: .plain)
        #expect(grid.lines == [
            " compare · budget of a: 2 + 1/s → 2 per 2s, 1 in progress (1 s each)",
            " arrivals: each key's new requests per frame, spread evenly over it, cost 1 (th…",
            " algorithm       state (a)        adm/s refused    p99  ▮ admitted × refused, l…",
            // At 1.0 s the bucket holds 0.75 of 2 (63 % used). Strip columns are half seconds,
            // the last one ending at "now": 0.25 and 0.5 fall in the one before, 0.75 and 1.0 in
            // the last; the queue's admissions at 1.25 and 2.25 are still ahead.
            " token-bucket    ██████▎     63%      2       2      0                        ▮×",
            " gcra            ██████▎     63%      2       2      0                        ▮×",
            " leaky-queue     ██████████ 100%      1       1   1.5s                        ▮×",
            " fixed-window    ██████████ 100%      2       2      0                        ▮×",
            " sliding-log     ██████████ 100%      2       2      0                        ▮×",
            " sliding-counter ██████████ 100%      2       2      0                        ▮×",
            " concurrency     ██████████ 100%      1       3      0                        ××",
        ].map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) })
    }
}

extension GoldenTests {
    /// The default scenario with the compare view open from 10 s to 30 s.
    @Test func compareViewAt100x30() throws {
        let fleet = try GoldenFleet.make()
        var state = DashboardState()
        for _ in 0..<100 { fleet.advance(by: 100_000_000) }
        state = DashboardUpdate.update(state, .key(.char("c")), snapshot: fleet.snapshot()).0
        for _ in 0..<200 {
            fleet.advance(by: 100_000_000)
            let snapshot = fleet.snapshot()
            state.compare!.observe(snapshot, budgetFrom: state.selected(snapshot))
        }
        try check("compare-100x30.txt", DashboardView.render(state, fleet.snapshot(), width: 100, height: 30))
    }
}

extension RunnerTests {
    @Test func theRunLoopFeedsTheCompareViewEveryFrame() throws {
        let (terminal, fleet, runner) = try run([.input(.key(.char("c")))] + Array(repeating: .wait, count: 40)
                                                + [.input(.key(.char("q")))], speed: 10)
        let feed = try #require(runner.state.compare)
        #expect(feed.now == fleet.snapshot().now)   // observed up to the last frame
        #expect(fleet.advanced > 0)
        #expect(feed.admittedPerSecond(0) > 0)      // the preview fleet's arrivals reached the limiters
        #expect(terminal.frames.last?.lines.contains { $0.hasPrefix(" token-bucket") } == true)
    }
}
