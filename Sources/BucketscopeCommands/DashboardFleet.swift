import Fleet
import TokenBucket

/// Where the dashboard gets its fleet and the provider-preset names.
enum DashboardFleet {
    /// The simulator for the flags (live mode will be chosen by `makeFleet` too).
    static func make(_ options: FleetOptions) throws -> any FleetDriver {
        try makeFleet(options)
    }

    /// What the `p` picker lists; the fleet resolves a name with `ProviderPreset.named`.
    static var presetNames: [String] { ProviderPreset.all.map(\.name) }
}
