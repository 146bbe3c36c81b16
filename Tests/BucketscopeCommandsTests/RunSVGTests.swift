import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Fleet
import Testing
@testable import BucketscopeCommands

/// `run --format svg`: the run's time series as a standalone, well-formed SVG chart.
@Suite("run --format svg")
struct RunSVGTests {
    @Test func aSimulatedRunRendersAWellFormedChartOfItsGroups() throws {
        let request = RunRequest(options: FleetOptions(scenario: "noisy-neighbor", seed: 1),
                                 duration: 20_000_000_000, format: .svg)
        let svg = try request.execute()
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("<svg") && svg.contains("</svg>"))
        // Both groups of the scenario are named in the legend.
        #expect(svg.contains(">quiet<") && svg.contains(">noisy<"))
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
    }
}
