import NIOCore

/// A command on its way to the server, with the promise its reply completes.
struct RedisCommand: Sendable {
    let arguments: [String]
    let promise: EventLoopPromise<RESPValue>
    /// No reply within this time fails the call and closes the connection.
    let timeout: TimeAmount
}

/// Turns the server's bytes into values, frame by frame (partial frames wait for more bytes).
final class RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try RESPParser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Pipelining: commands are written as they come, and replies, which Redis sends in the order
/// of the commands, complete the oldest pending promise. A call that times out closes the
/// connection and fails everything still pending on it: after a missing reply the order can no
/// longer be trusted.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisCommand
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let id: UInt64
        let promise: EventLoopPromise<RESPValue>
        let timeout: Scheduled<Void>?
    }

    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private var nextID: UInt64 = 0
    private var closed = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        guard !closed, context.channel.isActive else {
            command.promise.fail(RedisError.connectionClosed)
            promise?.fail(RedisError.connectionClosed)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(command.arguments, into: &buffer)
        nextID &+= 1
        let id = nextID
        let loop = context.eventLoop.assumeIsolated()
        let timeoutMilliseconds = command.timeout.nanoseconds / 1_000_000
        let task = loop.scheduleTask(in: command.timeout) { [weak self] in
            guard let self else { return }
            self.timedOut(id, context: context, milliseconds: timeoutMilliseconds)
        }
        pending.append(Pending(id: id, promise: command.promise, timeout: task))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if case .push = value { return }   // out-of-band (RESP3), never a reply
        guard let first = pending.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            failAll(RedisError.unexpectedReply("a reply with no command pending"), context: context)
            return
        }
        first.timeout?.cancel()
        first.promise.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.connectionClosed, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error, context: context)
    }

    private func timedOut(_ id: UInt64, context: ChannelHandlerContext, milliseconds: Int64) {
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
        let late = pending.remove(at: index)
        late.promise.fail(RedisError.timeout(milliseconds: milliseconds))
        failAll(RedisError.connectionClosed, context: context)
    }

    /// Fails every pending call and closes the connection.
    private func failAll(_ error: any Error, context: ChannelHandlerContext) {
        let failing = pending
        pending.removeAll()
        for p in failing {
            p.timeout?.cancel()
            p.promise.fail(error)
        }
        if !closed {
            closed = true
            context.close(promise: nil)
        }
    }
}
