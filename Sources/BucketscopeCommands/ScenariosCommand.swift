import ArgumentParser

struct ScenariosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scenarios", abstract: "(not built yet)")
    func run() async throws {
        throw ValidationError("bucketscope scenarios is not built yet")
    }
}
