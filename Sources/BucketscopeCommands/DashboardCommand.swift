import ArgumentParser
import CTerminalSignals
import Dashboard
import Fleet
import Foundation
import TerminalUI

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Watch a fleet of token buckets live and tune them (the default command).",
        discussion: "Press ? in the dashboard for its keys. Needs a terminal; for scripts use `bucketscope run`.")

    @Option(help: "Built-in scenario name or path to a scenario TOML file.")
    var scenario = "noisy-neighbor"
    @Option(help: "Keying strategy: shared, per-user, per-tenant, hierarchical.")
    var keying: String?
    @Option(help: "Random seed (whole number).")
    var seed: String?
    @Option(help: "Capacity of every client bucket, in tokens.")
    var capacity: String?
    @Option(help: "Refill of every client bucket, in tokens per second.")
    var refill: String?
    @Option(help: "Theme name (see `bucketscope themes`) or path to a btop-style .theme file.")
    var theme = "default"
    @Option(help: "Simulated seconds per real second, 0.1 to 1000.")
    var speed = "1"
    @Option(help: "Frames per second, 1 to 120.")
    var fps = "20"

    func run() async throws {
        let options: DashboardOptions
        let firstDriver: any FleetDriver
        do {
            options = try DashboardOptions.parse(scenario: scenario, keying: keying, seed: seed, capacity: capacity,
                                                 refill: refill, theme: theme, speed: speed, fps: fps)
            firstDriver = try DashboardFleet.make(options.fleet)
        } catch {
            StandardError.print("bucketscope: \(error)")
            throw ExitCode(2)
        }
        for warning in options.themeWarnings { StandardError.print("bucketscope: \(warning)") }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            StandardError.print("bucketscope: the dashboard needs a terminal (stdin and stdout); for headless output use `bucketscope run`")
            throw ExitCode(2)
        }
        let signal = try runDashboard(options, firstDriver: firstDriver)
        if let signal {
            // Stopped by SIGTERM/SIGHUP/SIGINT: the terminal is restored; end the way the signal would.
            bs_signals_reraise(signal)
        }
    }

    /// Runs the dashboard in the terminal; returns the stop signal if one ended it.
    private func runDashboard(_ options: DashboardOptions, firstDriver: any FleetDriver) throws -> Int32? {
        var themes: [String: Theme] = [:]
        for t in ThemeCatalog.builtIn { themes[t.name] = t }
        var names = ThemeCatalog.names
        if !names.contains(options.theme.name) || themes[options.theme.name] != options.theme {
            // A theme file from a path joins the `t` cycle under its own name.
            themes[options.theme.name] = options.theme
            if !names.contains(options.theme.name) { names.insert(options.theme.name, at: 0) }
        }
        let state = DashboardState(mode: firstDriver.mode, speed: options.speed, themeNames: names,
                                   theme: options.theme.name, presetNames: DashboardFleet.presetNames)
        let terminal: CursesTerminal
        do {
            terminal = try CursesTerminal.start(environment: ProcessInfo.processInfo.environment)
        } catch {
            StandardError.print("bucketscope: \(error)")
            throw ExitCode(2)
        }
        defer { terminal.restore() }
        var pending: (any FleetDriver)? = firstDriver
        let fleetOptions = options.fleet
        let runner = try DashboardRunner(state: state, themes: themes, framesPerSecond: options.framesPerSecond,
                                         backend: terminal) {
            if let driver = pending { pending = nil; return driver }
            return try DashboardFleet.make(fleetOptions)
        }
        return runner.run()
    }
}
