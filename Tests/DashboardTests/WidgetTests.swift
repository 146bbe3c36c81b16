@testable import Dashboard
import Testing

@Suite struct GaugeTests {
    func draw(_ fraction: Double, width: Int = 10, glyphs: Glyphs = .unicode) -> [String] {
        var grid = Grid(width: width, height: 1)
        Gauge(fraction: fraction, glyphs: glyphs).render(into: &grid, at: grid.bounds)
        return grid.lines
    }

    @Test func emptyGaugeIsBlank() { #expect(draw(0) == ["          "]) }
    @Test func fullGaugeFillsEveryCell() { #expect(draw(1) == ["██████████"]) }
    @Test func overfullAndNegativeAreClamped() {
        #expect(draw(1.7) == ["██████████"])
        #expect(draw(-0.2) == ["          "])
        #expect(draw(.nan) == ["          "])
    }
    @Test func fortyThreePercentIsFourCellsAndTwoEighths() { #expect(draw(0.43) == ["████▎     "]) }
    @Test func oneEighthOfOneCell() { #expect(draw(1.0 / 80) == ["▏         "]) }
    @Test func anyPositiveFractionShowsAtLeastOneEighth() { #expect(draw(0.001) == ["▏         "]) }
    @Test func almostFullIsNotDrawnFull() { #expect(draw(0.999) == ["█████████▉"]) }
    @Test func halfIsExactlyFiveCells() { #expect(draw(0.5) == ["█████     "]) }
    @Test func eachEighthOfASingleCell() {
        let cells = (1...8).map { draw(Double($0) / 8, width: 1)[0] }
        #expect(cells == ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"])
    }
    @Test func eighthsBoundaryRoundsToNearest() {
        #expect(Gauge.eighths(fraction: 0.0624, width: 1) == 0 + 1) // 0.4992 eighths → at least one
        #expect(Gauge.eighths(fraction: 0.1874, width: 1) == 1)     // 1.499 → 1
        #expect(Gauge.eighths(fraction: 0.1876, width: 1) == 2)     // 1.5008 → 2
    }
    @Test func asciiGaugeUsesHashes() { #expect(draw(0.43, glyphs: .ascii) == ["####.     "]) }
}

@Suite struct BrailleTests {
    @Test func barsAreBottomAlignedTwoSamplesPerCell() {
        #expect(BrailleChart.rows(samples: [0, 1, 2, 4], width: 2, height: 1, maximum: 4) == ["⢀⣼"])
    }

    @Test func fullCellIsAllEightDots() {
        #expect(BrailleChart.rows(samples: [4, 4], width: 1, height: 1, maximum: 4) == ["⣿"])
    }

    @Test func tallChartsStackCells() {
        // Left column 8 dots (both rows), right column 4 dots (bottom row only).
        #expect(BrailleChart.rows(samples: [8, 4], width: 1, height: 2, maximum: 8) == ["⡇", "⣿"])
    }

    @Test func newestSamplesAreAtTheRightAndOldOnesScrollOff() {
        #expect(BrailleChart.rows(samples: [4, 4, 4, 0, 4], width: 2, height: 1, maximum: 4) == ["⣿⢸"])
        #expect(BrailleChart.rows(samples: [4], width: 2, height: 1, maximum: 4) == [" ⢸"])
    }

    @Test func smallPositiveValueIsOneDotAndZeroIsBlank() {
        #expect(BrailleChart.levels([0, 0.01, 100], height: 1, maximum: 100) == [0, 1, 4])
    }

    @Test func asciiFallbackUsesOneSamplePerCell() {
        #expect(BrailleChart.asciiRows(samples: [0, 1, 2], width: 3, height: 1, maximum: 2) == [" .|"])
    }

    @Test func niceMaximumRoundsUpTo125() {
        #expect(BrailleChart.niceMaximum(0) == 1)
        #expect(BrailleChart.niceMaximum(3) == 5)
        #expect(BrailleChart.niceMaximum(20) == 20)
        #expect(BrailleChart.niceMaximum(21) == 50)
        #expect(BrailleChart.niceMaximum(130) == 200)
    }

    @Test func chartLabelsItsScaleAndUnit() {
        var grid = Grid(width: 16, height: 3)
        Chart(title: "tokens", unit: "tok", samples: [20, 20, 10, 0], secondsPerSample: 0.5, maximum: 20)
            .render(into: &grid, at: grid.bounds)
        #expect(grid.lines == [
            "tokens (tok)    ",
            "20┤           ⣿ ",
            " 0┤           ⣿⡇",
        ])
    }
}

@Suite struct TableTests {
    let columns = [TableColumn("key", width: 5), TableColumn("p50", width: 5, dropOrder: 1, alignRight: true),
                   TableColumn("p99", width: 5, alignRight: true)]

    @Test func droppableColumnsGoFirstWhenNarrow() {
        #expect(Table.widths(of: columns, in: 17) == [5, 5, 5])
        #expect(Table.widths(of: columns, in: 16) == [5, nil, 5])
        #expect(Table.widths(of: columns, in: 11) == [5, nil, 5])
    }

    @Test func spareWidthGoesToFlexibleColumns() {
        let flexible = [TableColumn("key", width: 5, flex: 1), TableColumn("p99", width: 5)]
        #expect(Table.widths(of: flexible, in: 20) == [14, 5])
    }

    @Test func longTextIsTruncatedWithAnEllipsis() {
        var grid = Grid(width: 17, height: 3)
        Table(columns: columns, rows: [
            [.text("user-long-name"), .text("12ms"), .text("1.8s")],
            [.text("日本語キー"), .text("0"), .text("340ms")],
        ]).render(into: &grid, at: grid.bounds)
        #expect(grid.lines == [
            "key     p50   p99",
            "user…  12ms  1.8s",
            "日本…     0 340ms",
        ])
    }

    @Test func tooNarrowEvenWithoutDroppedColumnsTruncatesTheLast() {
        var grid = Grid(width: 9, height: 2)
        Table(columns: columns, rows: [[.text("abcde"), .text("1"), .text("12345")]]).render(into: &grid, at: grid.bounds)
        #expect(grid.lines == ["key   p99", "abcde 12…"])
    }
}
