import NIOCore
import NIOPosix
import Synchronization

/// Settings of a ``RedisClient``. Every duration bounds a wait, so no call outlives the sum of
/// the connect and command timeouts.
public struct RedisClientConfiguration: Sendable, Hashable {
    public var endpoint: RedisEndpoint
    /// Connections kept open; calls spread over them round-robin, each pipelining its share.
    public var connections: Int
    public var connectTimeout: Duration
    /// Default per-call timeout: no reply by then fails the call and drops its connection.
    public var commandTimeout: Duration
    /// First wait after a failed connect; doubled per consecutive failure up to
    /// ``maximumBackoff``. While it runs, calls fail at once instead of queueing on a dead server.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration

    public init(endpoint: RedisEndpoint, connections: Int = 2, connectTimeout: Duration = .milliseconds(250),
                commandTimeout: Duration = .milliseconds(250), initialBackoff: Duration = .milliseconds(25),
                maximumBackoff: Duration = .milliseconds(500)) {
        self.endpoint = endpoint
        self.connections = Swift.max(1, connections)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }
}

/// A small pool of pipelined connections to one Redis server, replaced when they die.
///
/// ```swift
/// let client = RedisClient(RedisClientConfiguration(endpoint: try RedisEndpoint("redis://127.0.0.1:6390")))
/// let reply = try await client.send(["INCR", "hits"])     // .integer(1)
/// client.shutdown()
/// ```
///
/// - Connections open lazily, on the first call that needs one, and are replaced when closed
///   (server restart, a timed-out call).
/// - Reconnecting backs off exponentially (``RedisClientConfiguration/initialBackoff`` up to
///   ``RedisClientConfiguration/maximumBackoff``); during the backoff calls fail at once with
///   ``RedisError/unavailable(_:)``, so a caller's failure policy takes over without waiting,
///   and the first call after it tries again: the client recovers within the maximum backoff
///   of the server returning.
public final class RedisClient: Sendable {
    public let configuration: RedisClientConfiguration
    private let group: any EventLoopGroup
    private let pool: Mutex<Pool>

    private enum Slot {
        case empty
        case connecting(Task<RedisConnection, any Error>)
        case ready(RedisConnection)
    }

    private struct Pool {
        var slots: [Slot]
        var next = 0
        var failures = 0
        var retryAt: ContinuousClock.Instant?
        var lastError = ""
        var statistics = RedisClientStatistics()
        var isShutDown = false
    }

    public init(_ configuration: RedisClientConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        pool = Mutex(Pool(slots: Array(repeating: .empty, count: configuration.connections)))
    }

    deinit { shutdown() }

    /// Counts of connects, failures and timeouts so far.
    public var statistics: RedisClientStatistics { pool.withLock { $0.statistics } }

    /// Sends one command on a pooled connection and waits at most `timeout` (default: the
    /// configured command timeout) for the reply. Error replies are returned, not thrown.
    public func send(_ command: [String], timeout: Duration? = nil) async throws -> RESPValue {
        let connection = try await connection()
        do {
            return try await connection.send(command, timeout: timeout ?? configuration.commandTimeout)
        } catch {
            // The connection is closing (or closed): take it out of the pool now, so the next
            // call opens a new one instead of finding this one still marked active. Socket and
            // protocol errors surface as RedisError like every other failure to answer.
            let failure = (error as? RedisError) ?? .unavailable("\(configuration.endpoint): \(error)")
            pool.withLock { pool in
                if case .timeout = failure { pool.statistics.timeouts += 1 }
                for i in pool.slots.indices {
                    if case .ready(let c) = pool.slots[i], c === connection { pool.slots[i] = .empty }
                }
            }
            throw failure
        }
    }

    /// Closes every connection; later calls fail with ``RedisError/unavailable(_:)``.
    public func shutdown() {
        let slots = pool.withLock { pool -> [Slot] in
            pool.isShutDown = true
            defer { pool.slots = Array(repeating: .empty, count: pool.slots.count) }
            return pool.slots
        }
        for slot in slots {
            switch slot {
            case .ready(let c): c.close()
            case .connecting(let task): task.cancel()
            case .empty: break
            }
        }
    }

    private enum Pick {
        case use(RedisConnection)
        case wait(Task<RedisConnection, any Error>)
        case fail(RedisError)
    }

    /// A live connection: the round-robin slot's, or another live one while that slot
    /// (re)connects; a new connection when none is live and no backoff is running.
    private func connection() async throws -> RedisConnection {
        let pick = pool.withLock { pool -> Pick in
            guard !pool.isShutDown else { return .fail(.unavailable("client shut down")) }
            let count = pool.slots.count
            let index = pool.next % count
            pool.next &+= 1
            if case .ready(let c) = pool.slots[index], c.isActive { return .use(c) }
            var fallback: RedisConnection?
            for k in 1..<Swift.max(count, 1) {
                if case .ready(let c) = pool.slots[(index + k) % count], c.isActive { fallback = c; break }
            }
            if case .connecting(let task) = pool.slots[index] {
                return fallback.map(Pick.use) ?? .wait(task)
            }
            if let retryAt = pool.retryAt, ContinuousClock.now < retryAt {
                return fallback.map(Pick.use) ?? .fail(.unavailable(pool.lastError))
            }
            let task = Task { try await self.open(slot: index) }
            pool.slots[index] = .connecting(task)
            return fallback.map(Pick.use) ?? .wait(task)
        }
        switch pick {
        case .use(let c): return c
        case .wait(let task): return try await task.value
        case .fail(let error): throw error
        }
    }

    /// Connects slot `index` and records the outcome (the backoff on failure).
    private func open(slot index: Int) async throws -> RedisConnection {
        do {
            let c = try await RedisConnection.connect(to: configuration.endpoint, timeout: configuration.connectTimeout, on: group)
            let keep = pool.withLock { pool -> Bool in
                guard !pool.isShutDown else { return false }
                pool.slots[index] = .ready(c)
                pool.failures = 0
                pool.retryAt = nil
                pool.statistics.connects += 1
                return true
            }
            if !keep {
                c.close()
                throw RedisError.unavailable("client shut down")
            }
            return c
        } catch {
            let message = "\(configuration.endpoint): \(error)"
            pool.withLock { pool in
                pool.slots[index] = .empty
                pool.failures += 1
                pool.statistics.connectFailures += 1
                pool.lastError = message
                let factor = 1 << Swift.min(pool.failures - 1, 16)
                pool.retryAt = ContinuousClock.now + Swift.min(configuration.initialBackoff * factor, configuration.maximumBackoff)
            }
            throw (error as? RedisError) ?? RedisError.unavailable(message)
        }
    }
}

/// What a ``RedisClient`` has been through, for logs and metrics.
public struct RedisClientStatistics: Sendable, Hashable {
    public var connects = 0
    public var connectFailures = 0
    public var timeouts = 0
}
