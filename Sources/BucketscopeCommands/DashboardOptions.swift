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

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(scenario: String, keying: String?, seed: String?, capacity: String?, refill: String?,
                      theme: String, speed: String?, fps: String, live: Bool) throws -> DashboardOptions {
        var fleet = FleetOptions(scenario: scenario)
        if let keying {
            guard let k = Keying(rawValue: keying) else {
                throw Invalid(description: "--keying must be one of \(Keying.allCases.map(\.rawValue).joined(separator: ", ")), got '\(keying)'")
            }
            fleet.keying = k
        }
        if let seed {
            guard let s = UInt64(seed) else { throw Invalid(description: "--seed must be a whole number ≥ 0, got '\(seed)'") }
            fleet.seed = s
        }
        fleet.capacity = try capacity.map { try positive($0, flag: "--capacity", unit: "tokens") }
        fleet.refill = try refill.map { try positive($0, flag: "--refill", unit: "tokens per second") }
        if live, let speed, Double(speed) != 1 {
            throw Invalid(description: "--speed does not apply to --live: live mode runs in real time (×1), got '\(speed)'")
        }
        let speed = speed ?? "1"
        guard let x = Double(speed), x.isFinite, x >= 0.1, x <= 1000 else {
            throw Invalid(description: "--speed must be between 0.1 and 1000 (times real time), got '\(speed)'")
        }
        guard let f = Int(fps), (1...120).contains(f) else {
            throw Invalid(description: "--fps must be a whole number from 1 to 120, got '\(fps)'")
        }
        let loaded: ThemeParser.Result
        do { loaded = try ThemeCatalog.load(theme) } catch { throw Invalid(description: "--theme: \(error)") }
        return DashboardOptions(fleet: fleet, live: live, theme: loaded.theme, themeWarnings: loaded.warnings, speed: x,
                                framesPerSecond: f)
    }

    static func positive(_ text: String, flag: String, unit: String) throws -> Double {
        guard let v = Double(text), v.isFinite, v > 0 else {
            throw Invalid(description: "\(flag) must be a number > 0 (\(unit)), got '\(text)'")
        }
        return v
    }
}

/// Standard error, for messages printed before curses starts or after it ends.
enum StandardError {
    static func print(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
