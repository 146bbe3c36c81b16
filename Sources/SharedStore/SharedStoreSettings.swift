/// The shared store as a command line describes it (`--store redis://HOST:PORT
/// --on-store-failure open|closed|local --replicas N --store-timeout MS`), validated where it
/// enters, and the limiter it builds.
///
/// ```swift
/// let settings = try SharedStoreSettings(store: "redis://127.0.0.1:6390", onFailure: "local", replicas: 3)
/// let limiter = settings.limiter(log: { print($0) })
/// ```
public struct SharedStoreSettings: Sendable, Hashable {
    public var endpoint: RedisEndpoint
    public var policy: StoreFailurePolicy
    /// Per store call: well under a request's own timeout, so a request never waits on Redis
    /// for long (default 50 ms).
    public var timeout: Duration
    /// Pooled connections (each pipelines any number of calls).
    public var connections: Int

    /// Default policy `local`: with `replicas` left at 1 each replica then limits at the whole
    /// limit (at most N× over with N replicas) rather than admitting everything or nothing.
    public init(store: String, onFailure: String = "local", replicas: Int = 1, timeoutMilliseconds: Int = 50,
                connections: Int = 2) throws(SharedStoreSettingsError) {
        do { endpoint = try RedisEndpoint(store) } catch { throw SharedStoreSettingsError("--store: \(error.description)") }
        do { policy = try StoreFailurePolicy(parsing: onFailure, replicas: replicas) } catch {
            throw SharedStoreSettingsError(error.description)
        }
        guard (1...10_000).contains(timeoutMilliseconds) else {
            throw SharedStoreSettingsError("--store-timeout must be 1...10000 ms, got \(timeoutMilliseconds)")
        }
        guard (1...64).contains(connections) else {
            throw SharedStoreSettingsError("store connections must be 1...64, got \(connections)")
        }
        timeout = .milliseconds(timeoutMilliseconds)
        self.connections = connections
    }

    /// The same from a timeout as a duration (1 ms to 10 s; rounded to whole milliseconds).
    public init(store: String, onFailure: String = "local", replicas: Int = 1, timeout: Duration,
                connections: Int = 2) throws(SharedStoreSettingsError) {
        guard timeout >= .milliseconds(1), timeout <= .seconds(10) else {
            throw SharedStoreSettingsError("--store-timeout must be 1ms...10s, got \(timeout)")
        }
        let (seconds, atto) = timeout.components
        let ms = Int(seconds) * 1000 + Int((Double(atto) / 1e15).rounded())
        try self.init(store: store, onFailure: onFailure, replicas: replicas, timeoutMilliseconds: ms, connections: connections)
    }

    /// A limiter on a new client for these settings. Keys are prefixed `bucketscope:`.
    public func limiter(prefix: String = "bucketscope:", log: @escaping @Sendable (String) -> Void,
                        observe: @escaping @Sendable (SharedStoreEvent) -> Void = { _ in }) -> SharedLimiter {
        let client = RedisClient(RedisClientConfiguration(endpoint: endpoint, connections: connections,
                                                          connectTimeout: timeout * 4, commandTimeout: timeout))
        return SharedLimiter(buckets: RedisBuckets(client: client, prefix: prefix), policy: policy, log: log, observe: observe)
    }
}

/// A store setting that cannot be used, with a message for the user (exit status 2).
public struct SharedStoreSettingsError: Error, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
