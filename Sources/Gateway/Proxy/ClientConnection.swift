import NIOCore
import NIOHTTP1

/// The gateway's handler of one client connection, right after NIO's HTTP/1.1 codec and
/// before the conversion to Hummingbird's request types. It does two things:
///
/// - **The event-loop fast path.** A request that may qualify
///   (``GatewayResponder/fastCandidate(_:)``) is held here until its body is complete; if
///   ``GatewayResponder/fastDecide(_:body:keys:buffer:)`` admits it, it goes upstream on
///   this event loop's pool and its answer is written as one buffer from the same loop,
///   straight to the socket: no task, no thread switch, no request or header conversion. A
///   request refused at once (no `--max-wait`) gets its 429 the same way. Otherwise its parts
///   go on to Hummingbird untouched, as if this handler were not there.
/// - **The connection's state, for both paths** (what Hummingbird's `HTTPConnectionStateHandler`
///   does, which would not see the fast path's requests): the idle timeout (closed after
///   `idleTimeout` without a request, or while one is being read too slowly) and graceful
///   shutdown (closed at once when idle, else after the answer in progress).
///
/// Answers stay in request order: nothing takes the fast path while Hummingbird still owes an
/// answer on the connection, and requests that arrive while a fast one is in flight
/// (pipelined) wait for it.
final class ClientConnection: ChannelDuplexHandler, RemovableChannelHandler, UpstreamAnswerHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Mode {
        /// Between requests.
        case idle
        /// Holding a candidate request until its end.
        case collecting(HTTPRequestHead, ByteBuffer?)
        /// A fast request is upstream.
        case proxying
        /// Passing the current request's parts to Hummingbird.
        case forwarding
    }

    private let responder: GatewayResponder
    private let fastPath: Bool
    private let maxBody: Int
    private let idleTimeout: TimeAmount?
    private var mode = Mode.idle
    /// Requests handed to Hummingbird whose answers have not ended yet.
    private var owedByHummingbird = 0
    /// Parts that arrived while a fast request was in flight, in order.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    /// A read held back while too much is queued.
    private var heldRead = false
    private var replaying = false
    /// Parts went on to Hummingbird in this read cycle: its read-complete goes on too (a
    /// cycle of fast requests only ends here).
    private var forwardedThisCycle = false
    /// Where fast answers are written: the response encoder's context, whose next handler
    /// is the socket's, so their bytes bypass the encoders.
    private var socketOut: ChannelHandlerContext?
    private var keys = FastKeyCache()
    /// Where fast answers are written (see ``writeAnswer(to:)``).
    private var answerBuffer = ByteBuffer()
    /// The fast request upstream now, and this handler's context (for its answer).
    private var inFlight: GatewayResponder.FastRequest?
    private var context: ChannelHandlerContext?

    // The connection's state.
    /// Requests read (head seen) whose answers have not ended, both paths.
    private var inProgress = 0
    private var readingRequest = false
    private var lastActive = NIODeadline.now()
    private var active = false
    private var closeAfterAnswer = false
    private var idleCheck: Scheduled<Void>?

    /// Pipelined parts held at most before reading stops.
    static let maxQueued = 64

    init(responder: GatewayResponder, fastPath: Bool, maxBody: Int, idleTimeout: TimeAmount?) {
        self.responder = responder
        self.fastPath = fastPath
        self.maxBody = maxBody
        self.idleTimeout = idleTimeout
    }

    // MARK: Connection state

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        socketOut = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        if context.channel.isActive { becameActive(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        self.context = nil
        socketOut = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    private func becameActive(context: ChannelHandlerContext) {
        guard !active else { return }
        active = true
        lastActive = .now()
        if let idleTimeout { scheduleIdleCheck(at: lastActive + idleTimeout, context: context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        // Graceful shutdown: close now when idle, else once the answers in progress are written.
        if inProgress > 0 { closeAfterAnswer = true } else { context.close(promise: nil) }
    }

    /// Counts what arrived, for the idle timeout and graceful shutdown.
    private func noteRead(_ part: HTTPServerRequestPart) {
        lastActive = .now()
        switch part {
        case .head:
            inProgress += 1
            readingRequest = true
        case .body:
            break
        case .end:
            readingRequest = false
        }
    }

    /// An answer ended (its last bytes written): close if shutting down, else restart the
    /// idle clock once nothing is in progress.
    private func answerEnded(context: ChannelHandlerContext) {
        // Never below 0: Hummingbird answers a request it could not parse (400), unseen here.
        inProgress = Swift.max(0, inProgress - 1)
        guard inProgress == 0 else { return }
        if closeAfterAnswer {
            context.close(promise: nil)
        } else if let idleTimeout, active {
            lastActive = .now()
            scheduleIdleCheck(at: lastActive + idleTimeout, context: context)
        }
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, context: ChannelHandlerContext) {
        guard idleCheck == nil else { return }
        let loop = context.eventLoop.assumeIsolated()
        idleCheck = loop.scheduleTask(deadline: deadline) { [self] in
            idleCheck = nil
            guard let idleTimeout, active else { return }
            // Waiting for an answer is not idleness: the answer's end re-arms the check.
            if !readingRequest && inProgress > 0 { return }
            let due = lastActive + idleTimeout
            if NIODeadline.now() >= due { context.close(promise: nil) } else { scheduleIdleCheck(at: due, context: context) }
        }
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        noteRead(part)
        receive(part, context: context)
    }

    private func receive(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch mode {
        case .proxying:
            queued.append(part)
        case .forwarding:
            if case .end = part { mode = .idle }
            forward(part, context: context)
        case .idle:
            if fastPath, case .head(let head) = part, owedByHummingbird == 0, responder.fastCandidate(head) {
                mode = .collecting(head, nil)
            } else {
                if case .head = part {
                    owedByHummingbird += 1
                    mode = .forwarding
                }
                forward(part, context: context)
            }
        case .collecting(let head, var body):
            switch part {
            case .head:
                // Cannot happen (a head before the previous end); let Hummingbird judge.
                handOver(head, body, ended: false, context: context)
                receive(part, context: context)
            case .body(let chunk):
                mode = .idle   // drop the held reference so the buffer below is appended in place
                if body == nil { body = chunk } else { body!.writeImmutableBuffer(chunk) }
                if body!.readableBytes > maxBody {
                    handOver(head, body, ended: false, context: context)   // Hummingbird answers 413
                } else {
                    mode = .collecting(head, body)
                }
            case .end:
                mode = .idle
                proxy(head, body ?? ByteBuffer(), context: context)
            }
        }
    }

    /// Gives a held request to Hummingbird as it came.
    private func handOver(_ head: HTTPRequestHead, _ body: ByteBuffer?, ended: Bool, context: ChannelHandlerContext) {
        owedByHummingbird += 1
        mode = ended ? .idle : .forwarding
        forward(.head(head), context: context)
        if let body { forward(.body(body), context: context) }
        if ended { forward(.end(nil), context: context) }
    }

    private func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        forwardedThisCycle = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard forwardedThisCycle else { return }
        forwardedThisCycle = false
        context.fireChannelReadComplete()
    }

    private func proxy(_ head: HTTPRequestHead, _ body: ByteBuffer, context: ChannelHandlerContext) {
        guard let socketOut else {
            handOver(head, body.readableBytes > 0 ? body : nil, ended: true, context: context)
            return
        }
        let request: GatewayResponder.FastRequest
        answerBuffer.clear()
        switch responder.fastDecide(head, body: body, keys: &keys, buffer: &answerBuffer) {
        case .proxy(let r):
            request = r
        case .answer:
            writeAnswer(to: socketOut)
            answerEnded(context: context)
            return
        case .decline:
            handOver(head, body.readableBytes > 0 ? body : nil, ended: true, context: context)
            return
        }
        mode = .proxying
        inFlight = request
        responder.pool.sendGathering(request.upstream, target: request.target, on: context.eventLoop, to: self)
    }

    /// The fast request's answer (on this connection's event loop): written, then what queued
    /// behind it is handled.
    func upstreamAnswered(_ result: Result<UpstreamAnswer, any Error>) {
        guard let request = inFlight else { return }
        inFlight = nil
        // Settled and counted even when the client went away meanwhile (its answer unwritten).
        answerBuffer.clear()
        responder.fastAnswer(result, for: request, into: &answerBuffer)
        guard let context, let socketOut else { return }
        writeAnswer(to: socketOut)
        mode = .idle
        answerEnded(context: context)
        replayQueued(context: context)
    }

    /// Writes the answer in ``answerBuffer`` to the socket. The buffer's memory is used again
    /// for the next answer once the socket has taken it (at once on a socket with room:
    /// `clear()` then reuses it instead of allocating), unless it grew past ``keptBuffer``.
    private func writeAnswer(to socketOut: ChannelHandlerContext) {
        socketOut.writeAndFlush(NIOAny(IOData.byteBuffer(answerBuffer)), promise: nil)
        if answerBuffer.capacity > ClientConnection.keptBuffer { answerBuffer = ByteBuffer() }
    }

    /// Largest answer buffer a connection keeps between answers.
    static let keptBuffer = 64 << 10

    /// Handles what arrived during a fast request, in order, until another one is in flight.
    private func replayQueued(context: ChannelHandlerContext) {
        guard !replaying else { return }
        replaying = true
        defer { replaying = false }
        var handled = false
        while let part = queued.first {
            if case .proxying = mode { break }
            queued.removeFirst()
            receive(part, context: context)
            handled = true
        }
        // Outside a read cycle: Hummingbird's channel takes reads in at read-complete.
        if handled && forwardedThisCycle {
            forwardedThisCycle = false
            context.fireChannelReadComplete()
        }
        if heldRead && queued.count < ClientConnection.maxQueued {
            heldRead = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if queued.count >= ClientConnection.maxQueued { heldRead = true } else { context.read() }
    }

    // MARK: Hummingbird's answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        // An answer's end settles what Hummingbird owes and what is in progress.
        if owedByHummingbird > 0 { owedByHummingbird -= 1 }
        if inProgress == 1 && closeAfterAnswer {
            context.writeAndFlush(data, promise: promise)
        } else {
            context.write(data, promise: promise)
        }
        answerEnded(context: context)
        if owedByHummingbird == 0, case .idle = mode { replayQueued(context: context) }
    }
}
