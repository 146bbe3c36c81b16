/// A change to a running fleet. Every command takes effect on the running buckets at once.
public enum FleetCommand: Sendable, Equatable {
    /// Set capacity of one key's bucket, or of every bucket (and the default) when `key` is nil.
    case setCapacity(Double, key: String?)
    /// Set refill (tokens per second) of one key, or of all when `key` is nil.
    case setRefill(Double, key: String?)
    case setKeying(Keying)
    /// Turn the noisy neighbours' load on or off.
    case setNoisy(Bool)
    /// Size every client bucket from a provider preset (by its name in `ProviderPreset.all`).
    case applyPreset(String)
}
