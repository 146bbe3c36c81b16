import ArgumentParser
import Fleet

/// `bucketscope scenarios`: the built-in scenarios, one per line, name first.
struct ScenariosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the built-in scenarios (example files in scenarios/, schema in docs/scenario-format.md).")

    func run() async throws {
        let width = Scenario.builtIn.map(\.name.count).max() ?? 0
        for s in Scenario.builtIn {
            print(s.name + String(repeating: " ", count: width - s.name.count + 2) + s.description)
        }
    }
}
