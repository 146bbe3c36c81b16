import Fleet
import TokenBucket

/// Where the dashboard gets its fleet and the provider-preset names.
enum DashboardFleet {
    /// The simulator for the flags, or with `live` the fleet on the real clock (`mode`: its
    /// waiting requests as tasks on the library's limiters, or the core's paced queues).
    static func make(_ options: FleetOptions, live: Bool, mode: LiveMode = .tasks) throws -> any FleetDriver {
        live ? try makeLiveFleet(options, mode: mode) : try makeFleet(options)
    }

    /// What the `p` picker lists: the library's one preset table (`ProviderPreset.all`), by
    /// display name; the fleet resolves a name (or slug) with `ProviderPreset.named`.
    static var presetNames: [String] { ProviderPreset.all.map(\.name) }
}
