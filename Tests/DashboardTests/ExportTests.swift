@testable import Dashboard
import Fleet
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// A strict XML check: the parser must reach the end without an error, and counts elements.
final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var texts: [String] = []
    var fills: [String] = []
    private var inText = false
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        counts[name, default: 0] += 1
        if let fill = attributes["fill"] { fills.append(fill) }
        if name == "text" { inText = true; texts.append("") }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { inText = false }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts[texts.count - 1] += string }
    }

    static func parse(_ svg: String) -> ElementCounter? {
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = counter
        return parser.parse() ? counter : nil
    }
}

@Suite struct ExportTests {
    let light = ThemeCatalog.builtIn.first { $0.name == "light" }!

    func screen() throws -> Grid {
        let fleet = try GoldenFleet.make()
        for _ in 0..<100 { fleet.advance(by: 100_000_000) }
        return DashboardView.render(DashboardState(), fleet.snapshot(), width: 100, height: 30,
                                    context: ViewContext(palette: Palette(theme: light, depth: .truecolor), glyphs: .unicode))
    }

    @Test func theScreenSVGIsWellFormedWithOneTextElementPerStyledRun() throws {
        let grid = try screen()
        let svg = ScreenSVG.render(grid, title: "a <test> & more")
        let parsed = try #require(ElementCounter.parse(svg), "not well-formed XML")
        let runs = ScreenSVG.runs(grid).flatMap { $0 }.filter { !$0.text.allSatisfy { $0 == " " } }
        #expect(parsed.counts["text"] == runs.count)
        #expect(parsed.texts == runs.map(\.text)) // glyphs preserved, in order
        #expect(parsed.texts.joined().contains("⣿"))
        // Colours from the theme: its background and foreground.
        let bg = SVGText.hex(Palette(theme: light, depth: .truecolor).color(.mainBg), fallback: "")
        #expect(bg == "#fafafa")
        #expect(parsed.fills.contains(bg))
        #expect(parsed.fills.contains(SVGText.hex(Palette(theme: light, depth: .truecolor).color(.title), fallback: "")))
    }

    @Test func neighbouringCellsOfOneStyleFormOneRun() {
        var grid = Grid(width: 6, height: 1)
        grid.put("ab", x: 0, y: 0, style: Style(fg: .rgb(255, 0, 0)))
        grid.put("cd", x: 2, y: 0, style: Style(fg: .rgb(0, 0, 255), attributes: .bold))
        grid.put("界", x: 4, y: 0, style: Style(fg: .rgb(0, 0, 255), attributes: .bold))
        let runs = ScreenSVG.runs(grid)[0]
        #expect(runs.map(\.text) == ["ab", "cd界"])
        #expect(runs.map(\.width) == [2, 4]) // the wide character covers two cells
        let svg = ScreenSVG.render(grid, title: "t")
        #expect(svg.contains("fill=\"#ff0000\""))
        #expect(svg.contains("font-weight=\"bold\""))
    }

    @Test func thePlainTextCopyIsTheScreenLines() throws {
        let grid = try screen()
        let text = ScreenSVG.text(grid)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == grid.height + 1)
        #expect(text.contains("noisy-neighbor"))
    }

    @Test func capitalSSavesTheScreenAndSaysWhere() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bucketscope-save-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = FakeClock()
        let terminal = ScriptedTerminal([.input(.key(.char("S"))), .input(.key(.char("S"))), .input(.key(.char("q")))], clock: clock)
        let runner = try DashboardRunner(state: DashboardState(), themes: [:], framesPerSecond: 20, backend: terminal,
                                         clock: clock) { PreviewFleet() }
        runner.saveDirectory = directory.path
        runner.run()
        for name in ["bucketscope-1.svg", "bucketscope-1.txt", "bucketscope-2.svg"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name) missing")
        }
        let status = terminal.frames.last?.lines[22] ?? ""
        #expect(status.hasPrefix(" saved /"), "\(status)")
        #expect(status.contains("bucketscope-2.svg") || status.contains("…"), "\(status)") // a long temp path is cut at 80 columns
        let svg = try String(contentsOf: directory.appendingPathComponent("bucketscope-1.svg"), encoding: .utf8)
        #expect(ElementCounter.parse(svg) != nil)
    }
}

@Suite struct ReportChartTests {
    static func snapshot(_ scenario: String = "noisy-neighbor", keying: Keying? = nil) throws -> FleetSnapshot {
        let fleet = try makeFleet(FleetOptions(scenario: scenario, keying: keying, seed: 1))
        for _ in 0..<600 { fleet.advance(by: 100_000_000) } // 60 simulated seconds
        return fleet.snapshot()
    }

    @Test func theRunChartIsWellFormedAndDrawsEveryGroupAndTheBusiestKeys() throws {
        let snapshot = try Self.snapshot(keying: .shared)
        let svg = ReportChart.render(snapshot, theme: ThemeCatalog.fallback)
        // To look at it: BUCKETSCOPE_CHART=/tmp/chart.svg swift test --filter ReportChartTests; rsvg-convert it.
        if let path = ProcessInfo.processInfo.environment["BUCKETSCOPE_CHART"] {
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let parsed = try #require(ElementCounter.parse(svg), "not well-formed XML")
        // Two group panels (quiet, noisy) and one key panel (the one shared bucket).
        #expect(parsed.counts["polyline"] == 3 /* axes */ + 2 + 2 + 1)
        for name in ["quiet", "noisy", "shared", "wait p99 per group (ms)", "admitted per second per group (req/s)"] {
            #expect(parsed.texts.contains(name), "\(name) missing")
        }
        if case let .rgb(r, g, b) = ThemeCatalog.fallback[.quiet] { #expect(parsed.fills.contains(SVGText.hex(r, g, b))) }
    }

    @Test func theBusiestKeysAreCharted() throws {
        let keys = ReportChart.chartedKeys(try Self.snapshot())
        #expect(keys.first?.key == "noisy") // 99 waiting
        #expect(keys.count == ReportChart.chartedKeys)
    }

    @Test func anEmptySnapshotSaysNoDataYet() {
        let svg = ReportChart.render(Fixtures.snapshot(keys: []), theme: ThemeCatalog.fallback)
        #expect(ElementCounter.parse(svg)?.texts.filter { $0 == "no data yet" }.count == 3)
    }
}
