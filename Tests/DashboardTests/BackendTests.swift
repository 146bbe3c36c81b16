import CNcurses
import Dashboard
import Testing
import TerminalUI

/// Counts what the flusher would send to curses.
struct CountingSink: CellSink {
    var writes: [(Int, Int, String)] = []
    var commits = 0
    mutating func write(_ cell: Cell, x: Int, y: Int) { writes.append((x, y, cell.text)) }
    mutating func commit() { commits += 1 }
}

@Suite struct FrameFlusherTests {
    func frame(_ text: String = "tokens") -> Grid {
        var grid = Grid(width: 8, height: 2)
        grid.put(text, x: 0, y: 0)
        grid.put("日本", x: 0, y: 1)
        return grid
    }

    @Test func firstFrameWritesEveryCellButWideHalvesOnce() {
        var sink = CountingSink()
        let written = FrameFlusher().flush(frame(), to: &sink)
        #expect(written == 8 + 6) // row 1: 日, 本 and 4 blanks; their right halves are skipped
        #expect(sink.commits == 1)
    }

    @Test func drawingTheSameFrameTwiceWritesNothing() {
        let flusher = FrameFlusher()
        var sink = CountingSink()
        flusher.flush(frame(), to: &sink)
        sink = CountingSink()
        #expect(flusher.flush(frame(), to: &sink) == 0)
        #expect(sink.writes.isEmpty)
        #expect(sink.commits == 0)
    }

    @Test func onlyChangedCellsAreWritten() {
        let flusher = FrameFlusher()
        var sink = CountingSink()
        flusher.flush(frame("tokens"), to: &sink)
        sink = CountingSink()
        flusher.flush(frame("tokenz"), to: &sink)
        #expect(sink.writes.map { "\($0.0),\($0.1)=\($0.2)" } == ["5,0=z"])
        #expect(sink.commits == 1)
    }

    @Test func aNewSizeOrInvalidateRepaintsEverything() {
        let flusher = FrameFlusher()
        var sink = CountingSink()
        flusher.flush(frame(), to: &sink)
        flusher.invalidate()
        #expect(flusher.flush(frame(), to: &sink) == 14)
        #expect(flusher.flush(Grid(width: 3, height: 1), to: &sink) == 3)
    }
}

@Suite struct KeyDecoderTests {
    @Test func functionKeyCodesAreOnlyKeysWhenCursesSaysSo() {
        #expect(KeyDecoder.decode(UInt32(KEY_UP), isFunctionKey: true) == .key(.up))
        #expect(KeyDecoder.decode(UInt32(KEY_UP), isFunctionKey: false) == .key(.char("ă"))) // 259 is also ă
        #expect(KeyDecoder.decode(UInt32(KEY_RESIZE), isFunctionKey: true) == .resize)
        #expect(KeyDecoder.decode(UInt32(bs_key_f(1)), isFunctionKey: true) == .key(.function(1)))
    }

    @Test func controlCharacters() {
        #expect(KeyDecoder.decode(3, isFunctionKey: false) == .key(.ctrl("c")))
        #expect(KeyDecoder.decode(9, isFunctionKey: false) == .key(.tab))
        #expect(KeyDecoder.decode(13, isFunctionKey: false) == .key(.enter))
        #expect(KeyDecoder.decode(27, isFunctionKey: false) == .key(.escape))
        #expect(KeyDecoder.decode(127, isFunctionKey: false) == .key(.backspace))
        #expect(KeyDecoder.decode(UInt32(Character("+").asciiValue!), isFunctionKey: false) == .key(.char("+")))
    }
}
