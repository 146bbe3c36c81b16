@testable import Dashboard
import Fleet
import TerminalUI
import Testing

/// Mouse events go through the same pure update as keys: the frame is drawn to find what is
/// under the pointer, then the same actions run.
@Suite struct MouseTests {
    let snapshot = Fixtures.snapshot() // ▾ quiet: a, b; ▾ noisy: c
    var start: DashboardState {
        DashboardUpdate.update(DashboardState(), .screen(width: 100, height: 30), snapshot: snapshot).0
    }

    func lines(_ state: DashboardState) -> [String] {
        DashboardView.render(state, snapshot, width: 100, height: 30).lines
    }

    func at(_ text: String, in state: DashboardState) throws -> (x: Int, y: Int) {
        let lines = lines(state)
        let y = try #require(lines.firstIndex { $0.contains(text) }, "\(text) is not on screen")
        let line = lines[y]
        return (line.distance(from: line.startIndex, to: line.range(of: text)!.lowerBound), y)
    }

    func click(_ state: DashboardState, _ x: Int, _ y: Int, _ kind: MouseEvent.Kind = .press) -> (DashboardState, [Effect]) {
        DashboardUpdate.update(state, .mouse(MouseEvent(kind, x: x, y: y)), snapshot: snapshot)
    }

    @Test func clickingARowSelectsIt() throws {
        let (x, y) = try at("  c  ", in: start)
        #expect(click(start, x + 2, y).0.selectedKey == "c")
    }

    @Test func clickingAFoldMarkFoldsTheParent() throws {
        let (x, y) = try at("▾ quiet", in: start)
        let (state, _) = click(start, x, y)
        #expect(state.model(snapshot).rows.map(\.id.name) == ["quiet", "noisy", "c"])
    }

    @Test func clickingAColumnTitleSortsByItAndAgainReverses() throws {
        let (x, y) = try at("p99", in: start)
        let (once, _) = click(start, x, y)
        #expect(once.sort == TableSort(.p99, descending: true))
        let (twice, _) = click(once, x, y)
        #expect(twice.sort == TableSort(.p99, descending: false))
    }

    @Test func theWheelMovesTheSelectionOverTheTableAndScrollsAPane() throws {
        let (x, y) = try at("  a  ", in: start)
        #expect(click(start, x, y, .wheelDown).0.selectedKey == "c") // a → b → ▾ noisy → c
        let (ix, iy) = try at("no client groups", in: start)
        let (scrolled, _) = click(start, ix, iy, .wheelDown)
        #expect(scrolled.paneScroll[.isolation] == 3)
        #expect(scrolled.selectedKey == nil || scrolled.selectedKey == "a") // the table did not move
    }

    @Test func clickingAKeyInTheHintBarPressesIt() throws {
        let (x, y) = try at("q quit", in: start)
        #expect(click(start, x, y).1 == [.quit])
        let (px, py) = try at("␣ pause", in: start)
        #expect(click(start, px, py).1 == [.setPaused(true)])
    }

    @Test func clickingAPaneFocusesItAndAnyClickClosesTheHelp() throws {
        let (x, y) = try at("no client groups", in: start)
        #expect(click(start, x, y).0.focus == .isolation)
        var help = start
        help.overlay = .help
        #expect(click(help, 1, 1).0.overlay == nil)
    }

    @Test func cursesMouseReportsDecodeToEvents() {
        #expect(MouseDecoder.decode(kind: 1, x: 4, y: 7) == .mouse(MouseEvent(.press, x: 4, y: 7)))
        #expect(MouseDecoder.decode(kind: 2, x: 0, y: 0) == .mouse(MouseEvent(.wheelUp, x: 0, y: 0)))
        #expect(MouseDecoder.decode(kind: 3, x: 0, y: 0) == .mouse(MouseEvent(.wheelDown, x: 0, y: 0)))
        #expect(MouseDecoder.decode(kind: 0, x: 0, y: 0) == nil)
        #expect(MouseDecoder.decode(kind: -1, x: 0, y: 0) == nil)
    }
}
