import ArgumentParser

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dashboard", abstract: "(not built yet)")
    func run() async throws {
        throw ValidationError("bucketscope dashboard is not built yet")
    }
}
