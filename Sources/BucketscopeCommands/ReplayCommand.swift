import ArgumentParser

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "(not built yet)")
    func run() async throws {
        throw ValidationError("bucketscope replay is not built yet")
    }
}
