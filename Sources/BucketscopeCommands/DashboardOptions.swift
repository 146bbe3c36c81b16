import Dashboard
import Fleet
import Foundation

/// The dashboard's flags after checking: every bad value is a message naming the flag.
struct DashboardOptions: Sendable {
    var fleet: FleetOptions
    var live: Bool
    var theme: Theme
    var themeWarnings: [ThemeWarning]
    var speed: Double
    var framesPerSecond: Int
    var liveMode: LiveMode = .tasks

    static let speedRange = ValidRange(0.1, 1000, unit: "times real time")
    static let framesPerSecondRange = ValidCount(1, 120)

    /// The options from flags `DashboardCommand.validate()` has range-checked; loads the theme.
    static func make(fleet: FleetOptions, theme: String, speed: Double, fps: Int, live: Bool,
                     liveMode: LiveMode = .tasks) throws -> DashboardOptions {
        let loaded: ThemeParser.Result
        do { loaded = try ThemeCatalog.load(theme) } catch { throw CommandFailure("--theme: \(error)") }
        return DashboardOptions(fleet: fleet, live: live, theme: loaded.theme, themeWarnings: loaded.warnings, speed: speed,
                                framesPerSecond: fps, liveMode: liveMode)
    }
}

/// Standard error, for messages printed before curses starts or after it ends.
enum StandardError {
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
