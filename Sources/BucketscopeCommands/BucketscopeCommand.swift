import ArgumentParser

/// `bucketscope`: the dashboard by default, and headless subcommands for scripts.
public struct BucketscopeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bucketscope",
        abstract: "See how token-bucket rate limiting really behaves.",
        subcommands: [DashboardCommand.self, RunCommand.self, ReplayCommand.self, ScenariosCommand.self,
                      ThemesCommand.self, PresetsCommand.self, BenchCommand.self, CheckCommand.self,
                      CompareCommand.self, ServeCommand.self, MockUpstreamCommand.self],
        defaultSubcommand: DashboardCommand.self)
    public init() {}
}
