@testable import Dashboard
import Foundation
import Testing

@Suite struct ThemeFileTests {
    static let themeFiles: [URL] = {
        let dir = Fixtures.packageRoot.appendingPathComponent("themes")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".theme") }.sorted().map { dir.appendingPathComponent($0) }
    }()

    @Test func atLeastFourThemesShip() {
        let names = Set(Self.themeFiles.map { $0.deletingPathExtension().lastPathComponent })
        #expect(names.isSuperset(of: ["default", "light", "okabe-ito", "ansi16"]), "\(names)")
    }

    @Test(arguments: themeFiles)
    func everyThemeFileParsesCleanlyAndSetsEveryKey(_ url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let result = try ThemeParser.parse(text, name: url.lastPathComponent, file: url.lastPathComponent)
        #expect(result.warnings.isEmpty)
        let missing = ThemeKey.allCases.filter { result.theme.colors[$0] == nil }.map(\.rawValue)
        #expect(missing.isEmpty, "\(url.lastPathComponent) leaves out \(missing)")
        #expect(!result.theme.summary.isEmpty, "the first comment line describes the theme")
    }

    @Test(arguments: themeFiles)
    func embeddedCopyMatchesTheFileByteForByte(_ url: URL) throws {
        let name = url.deletingPathExtension().lastPathComponent
        let file = try Data(contentsOf: url)
        let embedded = ThemeCatalog.embeddedText(named: name).map { Data($0.utf8) }
        #expect(embedded == file, "themes/\(name).theme changed: run themes/embed-themes.sh")
    }

    @Test func everyEmbeddedThemeHasAFile() {
        let files = Set(Self.themeFiles.map { $0.deletingPathExtension().lastPathComponent })
        #expect(Set(ThemeCatalog.names) == files)
        #expect(ThemeCatalog.names.first == "default")
    }
}

@Suite struct ThemeParserTests {
    @Test func readsTheThreeColourFormsAndTerminalDefault() throws {
        let text = """
        # test theme
        theme[main_fg]="#ff8000"
        theme[inactive_fg]="#80"
        theme[quiet] = "86 180 233"   # spaces and a comment are fine
        theme[main_bg]=""
        """
        let theme = try ThemeParser.parse(text, name: "t", file: "t.theme").theme
        #expect(theme[.mainFg] == .rgb(255, 128, 0))
        #expect(theme[.inactiveFg] == .rgb(128, 128, 128))
        #expect(theme[.quiet] == .rgb(86, 180, 233))
        #expect(theme[.mainBg] == .terminalDefault)
        #expect(theme.summary == "test theme")
    }

    @Test func unknownKeyWarnsWithItsLineAndIsIgnored() throws {
        let result = try ThemeParser.parse("theme[main_fg]=\"#ffffff\"\ntheme[cpu_box]=\"#00ff00\"\n", name: "t", file: "t.theme")
        #expect(result.warnings.map(\.description) == ["t.theme:2: warning: unknown key 'cpu_box' (ignored)"])
        #expect(result.theme[.mainFg] == .rgb(255, 255, 255))
    }

    @Test func missingKeysFallBackToTheDefaultTheme() throws {
        let theme = try ThemeParser.parse("theme[noisy]=\"#ff0000\"", name: "t", file: "t.theme", base: ThemeCatalog.fallback).theme
        #expect(theme[.noisy] == .rgb(255, 0, 0))
        #expect(theme[.quiet] == ThemeCatalog.fallback[.quiet])
        #expect(theme.colors.count == ThemeKey.allCases.count)
    }

    @Test func missingMidSitsHalfwayBetweenStartAndEnd() throws {
        let theme = try ThemeParser.parse("theme[fill_start]=\"#000000\"\ntheme[fill_end]=\"#ff8040\"", name: "t", file: "t.theme").theme
        #expect(theme[.fillMid] == .rgb(127, 64, 32))
    }

    @Test func badColourNamesFileAndLine() {
        #expect(throws: ThemeError(file: "x.theme", line: 3, message:
            "bad colour \"#12345\": use \"#RRGGBB\", \"#GG\" (grey), \"R G B\" (0-255) or \"\" (terminal default)")) {
            try ThemeParser.parse("# x\n\ntheme[ok]=\"#12345\"\n", name: "x", file: "x.theme")
        }
        #expect(throws: ThemeError.self) { try ThemeParser.parse("theme[ok]=\"300 0 0\"", name: "x", file: "x.theme") }
        #expect(throws: ThemeError.self) { try ThemeParser.parse("theme[ok]=\"#gg\"", name: "x", file: "x.theme") }
    }

    @Test func malformedLineIsAnError() throws {
        do {
            _ = try ThemeParser.parse("theme[ok]=\"#ffffff\"\nthis is not a theme line\n", name: "x", file: "x.theme")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.description.hasPrefix("x.theme:2: not a setting"))
        }
    }

    @Test func fileWithoutSettingsIsRejected() {
        #expect(throws: ThemeError.self) { try ThemeParser.parse("# only a comment\n", name: "x", file: "x.theme") }
    }

    @Test func loadingAMissingPathIsAClearError() {
        do {
            _ = try ThemeCatalog.load("/nonexistent/dir/none.theme")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/dir/none.theme: cannot read the theme file (missing or unreadable)")
        }
    }

    @Test func loadingAnUnknownNameListsTheBuiltIns() {
        do {
            _ = try ThemeCatalog.load("nosuchtheme")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("okabe-ito"))
        }
    }

    @Test func loadingAFileFromAnyPathWorks() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bucketscope-test-\(UInt32.random(in: 0...UInt32.max)).theme")
        try "# mine\ntheme[ok]=\"#00ff00\"\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try ThemeCatalog.load(url.path)
        #expect(result.theme[.ok] == .rgb(0, 255, 0))
        #expect(result.theme[.noisy] == ThemeCatalog.fallback[.noisy])
    }
}

@Suite struct ColourDegradeTests {
    @Test func ansiColoursKeepTheirIndexIn256() {
        #expect(Palette.degrade(.rgb(205, 0, 0), to: .indexed256) == .indexed(1))
        #expect(Palette.degrade(.rgb(92, 92, 255), to: .indexed256) == .indexed(12))
    }

    @Test func otherColoursGoToTheCubeOrTheGreyRamp() {
        #expect(Palette.degrade(.rgb(255, 135, 0), to: .indexed256) == .indexed(208))
        #expect(Palette.degrade(.rgb(128, 128, 128), to: .indexed256) == .indexed(244))
    }

    @Test func sixteenColoursPickTheNearestANSI() {
        #expect(Palette.degrade(.rgb(200, 10, 10), to: .ansi16) == .indexed(1))
        #expect(Palette.degrade(.rgb(250, 250, 250), to: .ansi16) == .indexed(15))
    }

    @Test func truecolourPassesThroughAndNoneDropsColour() {
        #expect(Palette.degrade(.rgb(1, 2, 3), to: .truecolor) == .rgb(1, 2, 3))
        #expect(Palette.degrade(.rgb(1, 2, 3), to: .none) == .terminalDefault)
        #expect(Palette.degrade(.terminalDefault, to: .truecolor) == .terminalDefault)
    }

    @Test func depthComesFromNoColorColortermAndColors() {
        #expect(ColorDepth.detect(environment: ["NO_COLOR": "1", "COLORTERM": "truecolor"], terminalColors: 1 << 24, hasColors: true) == .none)
        #expect(ColorDepth.detect(environment: ["NO_COLOR": ""], terminalColors: 256, hasColors: true) == .indexed256)
        #expect(ColorDepth.detect(environment: ["COLORTERM": "truecolor"], terminalColors: 1 << 24, hasColors: true) == .truecolor)
        #expect(ColorDepth.detect(environment: ["COLORTERM": "24bit"], terminalColors: 256, hasColors: true) == .indexed256)
        #expect(ColorDepth.detect(environment: [:], terminalColors: 8, hasColors: true) == .ansi16)
        #expect(ColorDepth.detect(environment: [:], terminalColors: 256, hasColors: false) == .none)
    }

    @Test func withoutColourTheSelectionIsBoldUnderlined() {
        let palette = Palette(theme: ThemeCatalog.fallback, depth: .none)
        #expect(palette.selected.attributes == [.bold, .underline])
        #expect(palette.style(.quiet).fg == .terminalDefault)
    }

    @Test func gradientRunsFromStartThroughMidToEnd() {
        let palette = Palette(theme: ThemeCatalog.fallback, depth: .truecolor)
        #expect(palette.gradientColor(.fill, 0) == Palette.degrade(ThemeCatalog.fallback[.fillStart], to: .truecolor))
        #expect(palette.gradientColor(.fill, 0.5) == Palette.degrade(ThemeCatalog.fallback[.fillMid], to: .truecolor))
        #expect(palette.gradientColor(.fill, 1) == Palette.degrade(ThemeCatalog.fallback[.fillEnd], to: .truecolor))
    }
}
