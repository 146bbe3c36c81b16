import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The gateway's HTTP/1.1 client for `http://` upstreams: keep-alive connections pooled per
/// event loop, each request sent on a connection of the event loop its client connection is on
/// (no thread switch between the two sockets, no lock on the way).
///
/// It does what the proxy needs and no more: one request at a time per connection (no
/// pipelining), whole request bodies, answers whole or streamed (event streams), a connect
/// timeout, a read timeout (until the answer's head, then between reads), cancellation that
/// closes the connection. A request is never retried: once bytes may have reached the upstream
/// a second copy could run twice (nginx does not retry a POST either).
final class UpstreamPool: Sendable {
    /// Per event loop of the group it was made for; others get theirs on first use.
    private let loops: [ObjectIdentifier: LoopPool]
    private let extraLoops = Mutex<[ObjectIdentifier: LoopPool]>([:])
    let settings: LoopPool.Settings

    /// - Parameters:
    ///   - group: the event loops requests arrive on (the server's).
    ///   - readTimeout: longest silence of the upstream (before its head, then between reads).
    ///   - maxBody: largest non-streamed answer relayed.
    init(group: any EventLoopGroup, connectTimeout: TimeAmount, readTimeout: TimeAmount, maxBody: Int) {
        settings = .init(connectTimeout: connectTimeout, readTimeout: readTimeout, maxBody: maxBody)
        var loops: [ObjectIdentifier: LoopPool] = [:]
        for loop in group.makeIterator() { loops[ObjectIdentifier(loop)] = LoopPool(eventLoop: loop, settings: settings) }
        self.loops = loops
    }

    private func pool(for loop: any EventLoop) -> LoopPool {
        if let p = loops[ObjectIdentifier(loop)] { return p }
        return extraLoops.withLock { extra in
            if let p = extra[ObjectIdentifier(loop)] { return p }
            let p = LoopPool(eventLoop: loop, settings: settings)
            extra[ObjectIdentifier(loop)] = p
            return p
        }
    }

    /// Sends `request` to `target` on a connection of `eventLoop`; returns once the answer's
    /// head is in (and, unless it is an event stream, its whole body).
    /// - Throws: ``UpstreamFailure``, or `CancellationError` when the calling task is cancelled
    ///   (the connection is closed).
    func send(_ request: UpstreamRequest, target: UpstreamTarget, on eventLoop: any EventLoop) async throws -> UpstreamAnswer {
        let pool = pool(for: eventLoop)
        let promise = eventLoop.makePromise(of: UpstreamAnswer.self)
        let exchange = UpstreamExchange(request: request, target: target, promise: .promise(promise))
        if eventLoop.inEventLoop {
            pool.start(exchange)
        } else {
            eventLoop.execute { pool.start(exchange) }
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            eventLoop.execute {
                exchange.cancelled = true
                exchange.connection?.cancel(exchange)
            }
        }
    }

    /// Sends `request` from code already on `eventLoop` (the fast path): `handler` hears there
    /// the whole answer, an event stream included, or the failure.
    func sendGathering(_ request: UpstreamRequest, target: UpstreamTarget, on eventLoop: any EventLoop,
                       to handler: any UpstreamAnswerHandler) {
        eventLoop.preconditionInEventLoop()
        let exchange = UpstreamExchange(request: request, target: target, promise: .handler(handler))
        exchange.gatherEvents = true
        pool(for: eventLoop).start(exchange)
    }

    /// Closes every idle connection; connections in use close when their exchange ends.
    func shutdown() {
        for p in loops.values { p.shutdown() }
        for p in extraLoops.withLock({ Array($0.values) }) { p.shutdown() }
    }
}

/// The idle connections of one event loop. Touched only on that loop (hence `@unchecked
/// Sendable`: the pool hands it around, only the loop's own code reads or changes it).
final class LoopPool: @unchecked Sendable {
    struct Settings: Sendable {
        var connectTimeout: TimeAmount
        var readTimeout: TimeAmount
        var maxBody: Int
        /// Idle connections kept per event loop.
        var maxIdle = 256
        /// An idle connection older than this is closed instead of reused: shorter than the
        /// keep-alive timeout of common upstream servers (uvicorn's 5 s), so a connection the
        /// upstream is about to close is not picked.
        var idleLimit: TimeAmount = .seconds(4)
    }

    let eventLoop: any EventLoop
    let settings: Settings
    private var idle: [UpstreamConnection] = []
    private var closing = false

    init(eventLoop: any EventLoop, settings: Settings) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// Starts an exchange on an idle connection to its target, or on a new one.
    func start(_ exchange: UpstreamExchange) {
        guard !exchange.cancelled else { return exchange.promise.fail(CancellationError()) }
        let now = NIODeadline.now()
        while let c = idle.popLast() {
            if c.isUsable && c.target == exchange.target && now - c.idleSince < settings.idleLimit {
                c.start(exchange)
                return
            }
            c.close()
        }
        let connection = UpstreamConnection(pool: self, target: exchange.target, readTimeout: settings.readTimeout,
                                            maxBody: settings.maxBody)
        let target = exchange.target
        let bound = NIOLoopBound(connection, eventLoop: eventLoop)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(UpstreamResponseDecoding(decoder: bound.value.decoder)))
                    try sync.addHandler(bound.value)
                }
            }
        let connected = target.address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: target.host, port: target.port)
        connected.hop(to: eventLoop).whenComplete { result in
            switch result {
            case .success(let channel):
                if exchange.cancelled {
                    exchange.promise.fail(CancellationError())
                    channel.close(promise: nil)
                } else {
                    bound.value.start(exchange)
                }
            case .failure(let error):
                if let e = error as? ChannelError, case .connectTimeout = e {
                    exchange.promise.fail(UpstreamFailure.connectTimedOut)
                } else {
                    exchange.promise.fail(UpstreamFailure.unreachable(String(describing: error)))
                }
            }
        }
    }

    /// An exchange ended and the connection may carry another.
    func release(_ connection: UpstreamConnection) {
        guard !closing, idle.count < settings.maxIdle else { return connection.close() }
        connection.idleSince = .now()
        idle.append(connection)
    }

    /// An idle connection closed.
    func remove(_ connection: UpstreamConnection) {
        idle.removeAll { $0 === connection }
    }

    func shutdown() {
        eventLoop.execute { [self] in
            closing = true
            let all = idle
            idle = []
            for c in all { c.close() }
        }
    }
}

extension UpstreamConnection {
    /// Closes the connection (from the pool, on its loop).
    func close() { closeChannel() }
}
