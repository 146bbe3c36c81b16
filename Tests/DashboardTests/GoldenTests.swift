import Dashboard
import Fleet
import Foundation
import Testing

/// Whole screens of the default scenario at a fixed seed and time, compared with text files in
/// `Golden/`. After an intended change, re-record with `BUCKETSCOPE_RECORD=1 swift test` and
/// read the diff.
@Suite struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// The default scenario (noisy-neighbor, per-user, seed 1) after 30 simulated seconds.
    static func defaultScenarioSnapshot() throws -> FleetSnapshot {
        let fleet = try GoldenFleet.make()
        for _ in 0..<300 { fleet.advance(by: 100_000_000) }
        return fleet.snapshot()
    }

    func check(_ name: String, _ grid: Grid) throws {
        let text = grid.lines.map { $0 + "\n" }.joined()
        let url = Self.directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["BUCKETSCOPE_RECORD"] == "1" {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing \(name): record it with BUCKETSCOPE_RECORD=1 swift test --filter GoldenTests")
            return
        }
        if expected != text {
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let got = text.split(separator: "\n", omittingEmptySubsequences: false)
            let diff = zip(want, got).enumerated().filter { $0.element.0 != $0.element.1 }
                .map { "line \($0.offset + 1):\n  golden: \($0.element.0)\n  now:    \($0.element.1)" }
            Issue.record("\(name) differs (BUCKETSCOPE_RECORD=1 re-records):\n\(diff.prefix(6).joined(separator: "\n"))")
        }
    }

    @Test func defaultScenarioAt80x24() throws {
        try check("default-80x24.txt", DashboardView.render(DashboardState(), try Self.defaultScenarioSnapshot(), width: 80, height: 24))
    }

    @Test func defaultScenarioAt120x40() throws {
        try check("default-120x40.txt", DashboardView.render(DashboardState(), try Self.defaultScenarioSnapshot(), width: 120, height: 40))
    }

    @Test func helpAt80x24() throws {
        var state = DashboardState()
        state.overlay = .help
        try check("help-80x24.txt", DashboardView.render(state, try Self.defaultScenarioSnapshot(), width: 80, height: 24))
    }

    @Test func asciiFallbackAt80x24() throws {
        let context = ViewContext(palette: Palette(theme: ThemeCatalog.fallback, depth: .none), glyphs: .ascii)
        let grid = DashboardView.render(DashboardState(), try Self.defaultScenarioSnapshot(), width: 80, height: 24, context: context)
        try check("ascii-80x24.txt", grid)
        #expect(grid.lines.allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) })
    }

    /// noisy-neighbor under hierarchical keying (acme's four users under `tenant:acme`, the noisy
    /// client under `tenant:noisy-corp`) after 30 simulated seconds.
    static func hierarchicalSnapshot() throws -> FleetSnapshot {
        let fleet = try makeFleet(FleetOptions(scenario: "noisy-neighbor", keying: .hierarchical, seed: 1))
        for _ in 0..<300 { fleet.advance(by: 100_000_000) }
        return fleet.snapshot()
    }

    static func press(_ keys: [Key], _ snapshot: FleetSnapshot, state: DashboardState = DashboardState()) -> DashboardState {
        keys.reduce(state) { DashboardUpdate.update($0, .key($1), snapshot: snapshot).0 }
    }

    @Test func tenantTreeUnfoldedAt100x30() throws {
        let snapshot = try Self.hierarchicalSnapshot()
        let grid = DashboardView.render(DashboardState(), snapshot, width: 100, height: 30)
        try check("tree-unfolded-100x30.txt", grid)
        #expect(grid.lines[3].contains("▾ tenant:acme (4)"))
    }

    @Test func tenantTreeFoldedAt100x30() throws {
        let snapshot = try Self.hierarchicalSnapshot()
        let grid = DashboardView.render(Self.press([.char("z")], snapshot), snapshot, width: 100, height: 30)
        try check("tree-folded-100x30.txt", grid)
        #expect(grid.lines[3].contains("▸ tenant:acme (4)"))
        #expect(grid.lines[4].contains("▸ tenant:noisy-corp (1)"))
    }

    @Test func filterWhileTypingAt100x30() throws {
        let snapshot = try Self.defaultScenarioSnapshot()
        let state = Self.press([.char("/")] + "ER-3".map { .char($0) }, snapshot)
        let grid = DashboardView.render(state, snapshot, width: 100, height: 30)
        try check("filter-100x30.txt", grid)
        #expect(grid.lines[28].hasPrefix(" /ER-3▏"))
    }

    @Test func sortedByP99DescendingAt100x30() throws {
        let snapshot = try Self.defaultScenarioSnapshot()
        var state = DashboardState()
        state.tree = false
        state.sort = TableSort(.p99)
        let grid = DashboardView.render(state, snapshot, width: 100, height: 30)
        try check("sorted-p99-100x30.txt", grid)
        #expect(grid.lines[2].contains("p99↓"))
        #expect(grid.lines[3].contains("noisy"))
    }

    @Test func tooSmallShowsBothSizes() throws {
        let grid = DashboardView.render(DashboardState(), try Self.defaultScenarioSnapshot(), width: 50, height: 12)
        try check("too-small-50x12.txt", grid)
        #expect(grid.lines.contains { $0.contains("50×12 now, needs 64×20") })
    }
}

/// The fleet the golden snapshots are recorded from: the real simulator, default flags.
enum GoldenFleet {
    static func make() throws -> any FleetDriver { try makeFleet(FleetOptions(scenario: "noisy-neighbor", seed: 1)) }
}
