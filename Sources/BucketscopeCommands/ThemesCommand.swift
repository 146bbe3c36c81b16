import ArgumentParser

struct ThemesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "themes", abstract: "(not built yet)")
    func run() async throws {
        throw ValidationError("bucketscope themes is not built yet")
    }
}
