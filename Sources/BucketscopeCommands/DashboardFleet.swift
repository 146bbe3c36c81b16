import Fleet
import TokenBucket

/// Where the dashboard gets its fleet and the provider-preset names.
enum DashboardFleet {
    /// The simulator for the flags, or with `live` real tasks on the real clock.
    static func make(_ options: FleetOptions, live: Bool) throws -> any FleetDriver {
        live ? try makeLiveFleet(options) : try makeFleet(options)
    }

    /// What the `p` picker lists: the library's one preset table (`ProviderPreset.all`), by
    /// display name; the fleet resolves a name (or slug) with `ProviderPreset.named`.
    static var presetNames: [String] { ProviderPreset.all.map(\.name) }
}
