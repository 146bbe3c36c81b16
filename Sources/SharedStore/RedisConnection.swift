import NIOCore
import NIOPosix

/// One TCP connection to Redis, shared by any number of concurrent callers: their commands are
/// pipelined and each gets its own reply (see ``RedisCommandHandler``).
///
/// ```swift
/// let connection = try await RedisConnection.connect(to: endpoint, timeout: .milliseconds(200))
/// let pong = try await connection.send(["PING"], timeout: .milliseconds(50))   // .simple("PONG")
/// ```
public final class RedisConnection: Sendable {
    let channel: any Channel

    init(channel: any Channel) { self.channel = channel }

    /// Opens a connection.
    /// - Throws: what the socket reports (refused, unreachable), or a timeout.
    public static func connect(to endpoint: RedisEndpoint, timeout: Duration,
                               on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> RedisConnection {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler())
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .get()
        return RedisConnection(channel: channel)
    }

    /// Whether the connection is still open (a closed one is replaced by the pool).
    public var isActive: Bool { channel.isActive }

    /// Sends one command and waits for its reply, at most `timeout`.
    ///
    /// An error reply (`-ERR …`) is returned as ``RESPValue/error(_:)``, not thrown: the
    /// connection is fine. Thrown: ``RedisError/timeout(milliseconds:)`` (the connection is then
    /// closed), ``RedisError/connectionClosed``.
    public func send(_ command: [String], timeout: Duration) async throws -> RESPValue {
        guard channel.isActive else { throw RedisError.connectionClosed }
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(RedisCommand(arguments: command, promise: promise, timeout: TimeAmount(timeout)), promise: written)
        // A write that never reaches the handler (channel torn down meanwhile) must not leave
        // the caller waiting; completing an already completed promise is ignored.
        written.futureResult.whenFailure { _ in promise.fail(RedisError.connectionClosed) }
        return try await promise.futureResult.get()
    }

    /// Closes the connection; calls in flight fail with ``RedisError/connectionClosed``.
    public func close() {
        channel.close(promise: nil)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (s, atto) = duration.components
        self = .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
