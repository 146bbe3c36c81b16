import ArgumentParser

public struct BucketscopeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bucketscope",
        abstract: "See how token-bucket rate limiting really behaves.")
    public init() {}
}
