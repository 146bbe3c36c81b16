import ArgumentParser

/// One benchmark figure, printed as one JSON object per line.
struct BenchResult: Sendable {
    var name: String
    var value: Double
    var unit: String
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not built yet)")
    func run() async throws {
        throw ValidationError("bucketscope bench is not built yet")
    }
}
