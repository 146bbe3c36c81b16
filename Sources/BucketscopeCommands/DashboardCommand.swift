import ArgumentParser
import CTerminalSignals
import Dashboard
import Fleet
import Foundation
import TerminalUI

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Watch a fleet of token buckets and tune it while it runs (the default command).",
        discussion: "Press ? in the dashboard for its keys. Needs a terminal; for scripts use `bucketscope run`.")

    @OptionGroup var fleet: FleetFlags
    @Option(help: "Theme name (see `bucketscope themes`) or path to a btop-style .theme file.")
    var theme = "default"
    @Option(parsing: .unconditional, help: "Simulated seconds per real second, \(DashboardOptions.speedRange) (default 1; live mode runs at 1).")
    var speed: Double?
    @Option(parsing: .unconditional, help: "Frames per second, \(DashboardOptions.framesPerSecondRange).")
    var fps = 20
    @Flag(help: "Run live: real tasks on the library's async buckets and the real clock.")
    var live = false
    @Option(help: "With --live: `tasks` (each waiting request a task on the library's limiter, the default) or `core` (the fleet core's own queues, paced on the clock).")
    var liveMode: LiveMode?

    func validate() throws {
        try FlagCheck.number(speed, "--speed", DashboardOptions.speedRange)
        try FlagCheck.count(fps, "--fps", DashboardOptions.framesPerSecondRange)
        if liveMode != nil, !live { throw ValidationError("--live-mode needs --live") }
        if live, let speed, speed != 1 {
            throw ValidationError("--speed does not apply to --live: live mode runs in real time (×1), got \(NumberText.format(speed))")
        }
    }

    func run() async throws {
        let options = try DashboardOptions.make(fleet: fleet.options, theme: theme, speed: speed ?? 1, fps: fps, live: live,
                                                 liveMode: liveMode ?? .tasks)
        let scenario = try Scenario.resolve(options.fleet) // a bad scenario is a flag error, terminal or not
        try scenario.checkTotals(live: live)
        try scenario.checkDashboardRate(speed: options.speed)
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CommandFailure("the dashboard needs a terminal (stdin and stdout); for headless output use `bucketscope run`")
        }
        // Made here so a bad scenario is reported before the screen is taken over.
        let firstDriver = try DashboardFleet.make(options.fleet, live: options.live, mode: options.liveMode)
        for warning in options.themeWarnings { StandardError.print("bucketscope: \(warning)") }
        // The frame loop blocks its thread between frames: give it a thread of its own, so the
        // cooperative pool stays free for live mode's tasks. Every curses call happens there.
        let handoff = DriverHandoff(firstDriver)
        let outcome: Result<Int32?, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { try DashboardCommand.runDashboard(options, firstDriver: handoff.take()) })
            }
            thread.name = "bucketscope-ui"
            thread.stackSize = 8 << 20
            thread.start()
        }
        if let signal = try outcome.get() {
            // Stopped by SIGTERM/SIGHUP/SIGINT: the terminal is restored; end the way the signal would.
            bs_signals_reraise(signal)
        }
    }

    /// Runs the dashboard in the terminal; returns the stop signal if one ended it.
    private static func runDashboard(_ options: DashboardOptions, firstDriver: any FleetDriver) throws -> Int32? {
        var themes: [String: Theme] = [:]
        for t in ThemeCatalog.builtIn { themes[t.name] = t }
        var names = ThemeCatalog.names
        if themes[options.theme.name] != options.theme {
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
            firstDriver.shutdown()
            throw CommandFailure("\(error)")
        }
        defer { terminal.restore() }
        var pending: (any FleetDriver)? = firstDriver
        let runner = try DashboardRunner(state: state, themes: themes, framesPerSecond: options.framesPerSecond,
                                         backend: terminal) {
            if let driver = pending { pending = nil; return driver }
            return try DashboardFleet.make(options.fleet, live: options.live, mode: options.liveMode)
        }
        return runner.run()
    }
}

/// Moves the first driver from the command's task to the UI thread. The task never touches it
/// again after handing it over, so the unchecked sendability holds.
private final class DriverHandoff: @unchecked Sendable {
    private var driver: (any FleetDriver)?
    init(_ driver: any FleetDriver) { self.driver = driver }
    func take() -> any FleetDriver {
        defer { driver = nil }
        return driver!
    }
}
