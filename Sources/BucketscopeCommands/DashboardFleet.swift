import Fleet
import TokenBucket

/// Where the dashboard gets its fleet and the provider-preset names.
enum DashboardFleet {
    /// The simulator for the flags, or with `live` real tasks on the real clock.
    static func make(_ options: FleetOptions, live: Bool) throws -> any FleetDriver {
        live ? try makeLiveFleet(options) : try makeFleet(options)
    }

    /// What the `p` picker lists; the fleet resolves a name with `ProviderPreset.named`.
    static var presetNames: [String] { ProviderPreset.all.map(\.name) }
}
