import Foundation
import Testing
@testable import Fleet

@Suite struct ScenarioFileTests {
    @Test(arguments: Scenario.builtIn.map(\.name))
    func exampleFileParsesToTheBuiltIn(name: String) throws {
        let path = repositoryRoot.appendingPathComponent("scenarios/\(name).toml").path
        #expect(try Scenario.load(path: path) == Scenario.named(name)!)
    }

    func error(_ toml: String) -> String {
        do {
            _ = try Scenario.parse(toml: toml, file: "scenarios/x.toml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    let header = """
        name = "x"

        [limits]
        capacity = 10

        [[clients]]
        name = "a"

        """

    @Test func aWrongTypeNamesFileLineAndField() {
        #expect(error(header + "rate = \"fast\"\n") == "scenarios/x.toml:8: rate: expected a number, got \"fast\"")
    }

    @Test func aBadValueInALaterClientTableNamesItsOwnLine() {
        let toml = header + "rate = 1\n\n[[clients]]\nname = \"b\"\nrate = -2\n"
        #expect(error(toml) == "scenarios/x.toml:12: rate: must be > 0, got -2")
    }

    @Test func anUnknownFieldIsAnError() {
        #expect(error(header + "rate = 1\nrat = 2\n") == "scenarios/x.toml:9: rat: unknown field")
    }

    @Test func aMissingRequiredFieldNamesItsTable() {
        #expect(error(header) == "scenarios/x.toml:6: rate: required in this [[clients]] table")
    }

    @Test func badEnumsAndDurationsSayWhatIsAllowed() {
        #expect(error("keying = \"per-key\"\n") == "scenarios/x.toml:1: keying: expected one of shared, per-user, per-tenant, hierarchical, got \"per-key\"")
        #expect(error(header + "rate = 1\ndeadline = \"soon\"\n").hasPrefix("scenarios/x.toml:9: deadline: expected a duration"))
        #expect(error("[limits]\ncapacity = 0\n") == "scenarios/x.toml:2: capacity: must be > 0, got 0")
    }

    @Test func aTOMLSyntaxErrorHasItsLine() {
        #expect(error("name = \"x\"\nrate = = 2\n").hasPrefix("scenarios/x.toml:2: "))
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ScenarioError.self) { try Scenario.load(path: "/nonexistent/s.toml") }
    }

    @Test func defaultsFillEverythingNotGiven() throws {
        let s = try Scenario.parse(toml: "[[clients]]\nname = \"a\"\nrate = 3\n", file: "min.toml")
        #expect(s.name == "min")
        #expect(s.keying == .perUser)
        #expect(s.duration == 60_000_000_000)
        #expect(s.limits == ClientLimits())
        #expect(s.clients == [ClientSpec(name: "a", group: "a", arrival: .poisson(rate: 3))])
        #expect(s.upstream == UpstreamSpec())
        #expect(s.tuning == nil)
    }
}
