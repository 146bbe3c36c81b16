import Dashboard
import Fleet

/// Where the dashboard gets its fleet and the provider-preset names.
///
/// Until the simulator lands on this branch, the dashboard runs `PreviewFleet`, a deterministic
/// stand-in that knows the `noisy-neighbor` scenario only.
enum DashboardFleet {
    static let scenarios = ["noisy-neighbor"]

    static func make(_ options: FleetOptions) throws -> any FleetDriver {
        guard scenarios.contains(options.scenario) else {
            throw DashboardOptions.Invalid(description:
                "--scenario: unknown scenario '\(options.scenario)' (known: \(scenarios.joined(separator: ", ")))")
        }
        return PreviewFleet(scenario: options.scenario, keying: options.keying ?? .perUser,
                            capacity: options.capacity, refill: options.refill)
    }

    static var presetNames: [String] { PreviewFleet.presetNames }
}
