import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The gateway (and, with `mock`, the mock upstream) as one service group: start with
/// ``run()``, stop with SIGTERM/SIGINT (when `signals` is on) or ``shutdown()``. Shutting down
/// stops accepting connections, lets in-flight requests finish for up to
/// `config.shutdownTimeout`, then closes the upstream client.
///
/// ```swift
/// let server = try GatewayServer(config: config, mock: MockUpstreamConfiguration())
/// async let done: Void = server.run()
/// let port = try await server.boundPort()
/// ```
public final class GatewayServer: Sendable {
    public let responder: GatewayResponder
    public let mockUpstream: MockUpstream?
    public let config: GatewayConfig
    let client: HTTPClient
    let pool: UpstreamPool
    let logger: Logger
    let signals: Bool
    private let group = Mutex<ServiceGroup?>(nil)
    /// A graceful shutdown began (signal or ``shutdown()``): errors after it are its timeout's
    /// cancellation, not failures.
    private let stopping = Atomic<Bool>(false)
    private let ports = Mutex<(gateway: Int?, mock: Int?, waiters: [CheckedContinuation<Int, any Error>])>((nil, nil, []))

    /// - Parameters:
    ///   - mock: run a mock upstream in-process and send everything there (`config.upstream` unused).
    ///   - signals: shut down gracefully on SIGTERM and SIGINT.
    ///   - fastPath: carry the common request on the event loop (``ClientConnection``); off,
    ///     every request takes the Hummingbird path.
    public init(config: GatewayConfig, mock: MockUpstreamConfiguration?, logger: Logger = Logger(label: "bucketscope.serve"),
                signals: Bool = false, fastPath: Bool = GatewayServer.fastPathByDefault) throws {
        self.config = config
        self.fastPath = fastPath
        self.logger = logger
        self.signals = signals
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: .seconds(10), read: .nanoseconds(Int64(config.upstreamTimeout.inSeconds * 1e9)))
        // Many concurrent streams go to one host: keep enough connections.
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        http.decompression = .disabled
        // Fail fast when the upstream refuses connections (502 at once, reservation given back).
        http.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        // On the event loops the server accepts on (Hummingbird's default group).
        pool = UpstreamPool(group: MultiThreadedEventLoopGroup.singleton, connectTimeout: .seconds(10),
                            readTimeout: .nanoseconds(Int64(config.upstreamTimeout.inSeconds * 1e9)),
                            maxBody: GatewayResponder.maxUpstreamBody)
        mockUpstream = try mock.map { try MockUpstream($0) }
        responder = try GatewayResponder(config: config, upstream: config.upstream ?? "http://127.0.0.1:0", client: client,
                                         pool: pool, logger: logger)
    }

    /// Whether the event-loop fast path is on (see ``ClientConnection``).
    let fastPath: Bool

    /// The fast path's default: on, unless the environment sets `BUCKETSCOPE_FAST_PATH=off`,
    /// which sends every request the Hummingbird way (for comparing the two;
    /// `scripts/bench-serve.sh` does).
    public static var fastPathByDefault: Bool { ProcessInfo.processInfo.environment["BUCKETSCOPE_FAST_PATH"] != "off" }

    /// Serves until shut down. Throws when a port cannot be bound.
    public func run() async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ClientCloser(client: client, pool: pool))
        ]
        if let mockUpstream {
            let mockApp = Application(
                responder: mockUpstream,
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                onServerRunning: { [self] channel in
                    let port = channel.localAddress?.port ?? 0
                    responder.upstream = "http://127.0.0.1:\(port)"
                    ports.withLock { $0.mock = port }
                },
                logger: quiet)
            services.append(.init(service: mockApp))
        }
        let gatewayApp = Application(
            responder: responder,
            server: HTTPServerBuilder { [responder, config, fastPath] hummingbird in
                GatewayHTTP1Channel(responder: hummingbird, gateway: responder, fastPath: fastPath,
                                    idleTimeout: .nanoseconds(Int64(config.clientTimeout.inSeconds * 1e9)))
            },
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: nil),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? 0
                let waiters = ports.withLock { p in
                    p.gateway = port
                    defer { p.waiters = [] }
                    return p.waiters
                }
                for w in waiters { w.resume(returning: port) }
            },
            logger: quiet)
        // Started after the mock so the first request finds its port set: the gateway's
        // before-start step waits for it.
        var app = gatewayApp
        if mockUpstream != nil {
            app.beforeServerStarts { [self] in
                while ports.withLock({ $0.mock }) == nil { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        services.append(.init(service: app))
        // Last, so graceful shutdown reaches it first.
        services.append(.init(service: StopWatcher { [self] in stopping.store(true, ordering: .relaxed) }))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [],
                                                      logger: quiet)
        configuration.maximumGracefulShutdownDuration = config.shutdownTimeout
        configuration.maximumCancellationDuration = .seconds(5)
        let serviceGroup = ServiceGroup(configuration: configuration)
        group.withLock { $0 = serviceGroup }
        defer {
            let waiters = ports.withLock { p in defer { p.waiters = [] }; return p.waiters }
            for w in waiters { w.resume(throwing: CancellationError()) }
        }
        do {
            try await serviceGroup.run()
        } catch {
            // Never bound: the port could not be had (a failing service also starts a graceful
            // shutdown, so `stopping` alone does not tell this apart).
            guard ports.withLock({ $0.gateway }) != nil else {
                throw GatewayConfigError("cannot listen on \(config.listen.host):\(config.listen.port): \(Self.reason(error))")
            }
            guard stopping.load(ordering: .relaxed) else { throw error }
            // In-flight requests outlived shutdown_timeout and were cancelled: still a clean stop.
            logger.warning("shutdown: in-flight requests cancelled after \(config.shutdownTimeout)", metadata: ["error": "\(error)"])
        }
    }

    /// A system error as the C library words it (`address already in use`), anything else as it
    /// describes itself.
    static func reason(_ error: any Error) -> String {
        guard let e = error as? IOError else { return "\(error)" }
        return String(cString: strerror(e.errnoCode)).lowercased()
    }

    /// The gateway's port once it is bound.
    public func boundPort() async throws -> Int {
        try await withCheckedThrowingContinuation { c in
            let port = ports.withLock { p -> Int? in
                if let port = p.gateway { return port }
                p.waiters.append(c)
                return nil
            }
            if let port { c.resume(returning: port) }
        }
    }

    /// The mock upstream's port (nil without a mock, or before it is bound).
    public var mockPort: Int? { ports.withLock { $0.mock } }

    /// Starts a graceful shutdown (as SIGTERM does).
    public func shutdown() async {
        let g = group.withLock { $0 }
        await g?.triggerGracefulShutdown()
    }

    /// Hummingbird's own logs stay quiet below warnings; the gateway logs through `logger`.
    private var quiet: Logger {
        var l = logger
        l.logLevel = Swift.max(l.logLevel, .warning)
        return l
    }
}

/// Closes the upstream clients once everything after it in the group (the gateway, the mock)
/// has shut down.
struct ClientCloser: Service {
    let client: HTTPClient
    let pool: UpstreamPool
    func run() async throws {
        try? await gracefulShutdown()
        pool.shutdown()
        try await client.shutdown()
    }
}

/// Notes that a graceful shutdown began (the group signals the last service first).
struct StopWatcher: Service {
    let onShutdown: @Sendable () -> Void
    func run() async throws {
        try? await gracefulShutdown()
        onShutdown()
    }
}
