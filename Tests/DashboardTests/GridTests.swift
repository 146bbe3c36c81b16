@testable import Dashboard
import Testing

@Suite struct GridTests {
    @Test func textIsClippedAtTheGridEdge() {
        var grid = Grid(width: 6, height: 2)
        grid.put("tokens and more", x: 2, y: 1)
        grid.put("off", x: 0, y: 5)
        #expect(grid.lines == ["      ", "  toke"])
    }

    @Test func wideCharacterTakesTwoCellsAndListsOnce() {
        var grid = Grid(width: 5, height: 1)
        let written = grid.put("日本", x: 0, y: 0)
        #expect(written == 4)
        #expect(grid.lines == ["日本 "])
        #expect(grid[1, 0].isContinuation)
    }

    @Test func wideCharacterThatDoesNotFitBecomesASpace() {
        var grid = Grid(width: 5, height: 1, fill: Cell("."))
        grid.put("ab日", x: 2, y: 0)
        #expect(grid.lines == ["..ab "])
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var grid = Grid(width: 4, height: 1)
        grid.put("日", x: 0, y: 0)
        grid.put("x", x: 1, y: 0)
        #expect(grid.lines == [" x  "])
        grid.put("語", x: 2, y: 0)
        grid.put("y", x: 2, y: 0)
        #expect(grid.lines == [" xy "])
    }

    @Test func cellWidthFollowsWcwidth() {
        #expect(CellWidth.of("a" as Character) == 1)
        #expect(CellWidth.of("日" as Character) == 2)
        #expect(CellWidth.of("한" as Character) == 2)
        #expect(CellWidth.of("😀" as Character) == 2)
        #expect(CellWidth.of("e\u{301}" as Character) == 1)
        #expect(CellWidth.of(Unicode.Scalar(0x301)!) == 0)
        #expect(CellWidth.of("⣿" as Character) == 1)
        #expect(CellWidth.of("█" as Character) == 1)
        #expect(CellWidth.of("key 日本") == 8)
    }

    @Test func truncationCountsColumnsNotCharacters() {
        #expect(TextFit.truncate("user-long-name", to: 5) == "user…")
        #expect(TextFit.truncate("日本語", to: 5) == "日本…")
        #expect(TextFit.truncate("日本語", to: 4) == "日…")
        #expect(TextFit.truncate("short", to: 5) == "short")
        #expect(TextFit.pad("日", to: 4, alignRight: true) == "  日")
    }

    @Test func formatsStayShort() {
        #expect(Format.number(0) == "0")
        #expect(Format.number(4) == "4")
        #expect(Format.number(12.34) == "12")
        #expect(Format.number(1.25) == "1.3")
        #expect(Format.number(31_250) == "31k")
        #expect(Format.number(1_200) == "1.2k")
        #expect(Format.milliseconds(12.4) == "12ms")
        #expect(Format.milliseconds(1_830) == "1.8s")
        #expect(Format.seconds(192) == "3.2m")
        #expect(Format.clock(nanoseconds: 83_450_000_000) == "00:01:23.4")
        #expect(Format.percent(0.021) == "2.1%")
    }
}
