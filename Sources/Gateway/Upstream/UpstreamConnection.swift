import NIOCore
import NIOHTTP1

/// One exchange in flight on an upstream connection: created by ``UpstreamPool/send(_:target:on:)``,
/// then touched only on its event loop (hence `@unchecked Sendable`).
final class UpstreamExchange: @unchecked Sendable {
    let request: UpstreamRequest
    let target: UpstreamTarget
    let promise: UpstreamCompletion
    /// The caller gave up (its task was cancelled): drop the exchange wherever it is.
    var cancelled = false
    /// The connection carrying it, once it has one.
    var connection: UpstreamConnection?
    /// Gather even an event stream whole (the caller cannot take a stream).
    var gatherEvents = false

    init(request: UpstreamRequest, target: UpstreamTarget, promise: UpstreamCompletion) {
        self.request = request
        self.target = target
        self.promise = promise
    }
}

/// Code on an upstream connection's event loop that hears an exchange's answer in place.
protocol UpstreamAnswerHandler: AnyObject {
    func upstreamAnswered(_ result: Result<UpstreamAnswer, any Error>)
}

/// Who hears an exchange's answer: a task awaiting a promise, or a handler on the event loop
/// (the fast path) called in place, with no future or closure in between.
enum UpstreamCompletion {
    case promise(EventLoopPromise<UpstreamAnswer>)
    case handler(any UpstreamAnswerHandler)

    func succeed(_ answer: UpstreamAnswer) {
        switch self {
        case .promise(let p): p.succeed(answer)
        case .handler(let h): h.upstreamAnswered(.success(answer))
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .promise(let p): p.fail(error)
        case .handler(let h): h.upstreamAnswered(.failure(error))
        }
    }
}

/// The handler at the end of an upstream connection's pipeline (after NIO's HTTP/1.1 client
/// codec): one exchange at a time, then back to its ``LoopPool`` when the answer ended and both
/// sides allow keep-alive. Lives on its channel's event loop; every method runs there.
///
/// A non-streamed answer is gathered here and handed over whole, in one hop to the waiting
/// task; an event stream is handed over at its head and then yielded chunk by chunk.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum State {
        case idle
        case waitingHead(UpstreamExchange)
        case gathering(UpstreamExchange, HTTPResponseHead, ByteBuffer?)
        case streaming(UpstreamBodyStream.Producer.Source)
        case closed
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    private let pool: LoopPool
    let target: UpstreamTarget
    private let readTimeout: TimeAmount
    private let maxBody: Int
    /// The pending silence check (one per connection while it carries exchanges).
    private var timer: Scheduled<Void>?
    private var lastRead = NIODeadline.now()
    private var keepAlive = true
    /// Stream back-pressure: the consumer wants more; a read held while it does not.
    private var demand = true
    private var heldRead = false
    /// When it went back to the pool (for the idle limit).
    var idleSince = NIODeadline.now()

    /// The response decoder of this connection's pipeline (``UpstreamResponseDecoding``), told
    /// each request's method as it is sent.
    let decoder = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)
    private var requestBuffer = ByteBuffer()

    init(pool: LoopPool, target: UpstreamTarget, readTimeout: TimeAmount, maxBody: Int) {
        self.pool = pool
        self.target = target
        self.readTimeout = readTimeout
        self.maxBody = maxBody
    }

    var isUsable: Bool {
        guard case .idle = state, let context else { return false }
        return context.channel.isActive
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    // MARK: Sending

    /// Sends `exchange`'s request; the answer fulfils its promise.
    func start(_ exchange: UpstreamExchange) {
        guard case .idle = state, let context else {
            exchange.promise.fail(UpstreamFailure.closed)
            return
        }
        exchange.connection = self
        state = .waitingHead(exchange)
        let r = exchange.request
        // The request's bytes are written as one buffer (``UpstreamRequest/serialize(into:target:)``),
        // straight to the socket; the response decoder is told the method (a HEAD's answer
        // has no body) as NIO's request encoder would have told it.
        // The buffer's memory serves the next request too once the socket has taken it (see
        // ClientConnection.writeAnswer(to:)).
        requestBuffer.clear(minimumCapacity: 512 + Swift.min(r.body?.readableBytes ?? 0, UpstreamRequest.inlineBody))
        let separateBody = r.serialize(into: &requestBuffer, target: exchange.target)
        decoder.write(data: .head(UpstreamConnection.head(for: r.method)))
        if let body = separateBody {
            context.write(wrapOutboundOut(.byteBuffer(requestBuffer)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(body)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(requestBuffer)), promise: nil)
        }
        if requestBuffer.capacity > ClientConnection.keptBuffer { requestBuffer = ByteBuffer() }
        lastRead = .now()
        keepAlive = true
        demand = true
        // One timer per connection, re-armed from the last read when it fires (not one
        // scheduled and cancelled per exchange).
        if timer == nil { arm(readTimeout) }
    }

    /// A request head carrying only `method`, for the decoder (the common ones made once).
    static func head(for method: HTTPMethod) -> HTTPRequestHead {
        switch method {
        case .POST: return postHead
        case .GET: return getHead
        default: return HTTPRequestHead(version: .http1_1, method: method, uri: "")
        }
    }
    static let postHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "")
    static let getHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")

    /// The exchange's caller gave up: end it and the connection (the answer cannot be skipped).
    func cancel(_ exchange: UpstreamExchange) {
        switch state {
        case .waitingHead(let x) where x === exchange, .gathering(let x, _, _) where x === exchange:
            fail(CancellationError())
            context?.close(promise: nil)
        default:
            break
        }
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .waitingHead(let x) = state else { return protocolError() }
            // 1xx informational answers precede the real one.
            if head.status.code < 200 && head.status != .switchingProtocols { return }
            keepAlive = head.isKeepAlive
            if !x.gatherEvents && (head.headers.first(name: "content-type") ?? "").lowercased().hasPrefix("text/event-stream") {
                let (source, stream) = UpstreamBodyStream.make(for: self, on: context.eventLoop)
                state = .streaming(source)
                x.promise.succeed(UpstreamAnswer(status: head.status, headers: head.headers, body: .stream(stream)))
            } else {
                state = .gathering(x, head, nil)
            }
        case .body(let chunk):
            switch state {
            case .gathering(let x, let head, var body):
                state = .idle   // not a copy of the buffer below: drop the enum's reference first
                if body == nil {
                    body = chunk
                } else {
                    guard body!.readableBytes + chunk.readableBytes <= maxBody else {
                        state = .gathering(x, head, nil)
                        fail(UpstreamFailure.tooLarge)
                        context.close(promise: nil)
                        return
                    }
                    body!.writeImmutableBuffer(chunk)
                }
                state = .gathering(x, head, body)
            case .streaming(let source):
                if source.yield(chunk) == .stopProducing { demand = false }
            default:
                protocolError()
            }
        case .end:
            switch state {
            case .gathering(let x, let head, let body):
                finishExchange()
                x.promise.succeed(UpstreamAnswer(status: head.status, headers: head.headers,
                                                 body: .complete(body ?? ByteBuffer())))
            case .streaming(let source):
                finishExchange()
                source.finish()
            default:
                protocolError()
            }
        }
    }

    /// The answer ended: back to the pool, or closed when either side ends keep-alive.
    private func finishExchange() {
        state = .idle
        if keepAlive {
            pool.release(self)
        } else {
            state = .closed
            context?.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        if demand { context.read() } else { heldRead = true }
    }

    func consumerWantsMore() {
        demand = true
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }

    /// The stream's consumer stopped before the end (the client went away).
    func consumerGone() {
        guard case .streaming = state else { return }
        state = .closed
        timer?.cancel()
        context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(UpstreamFailure.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error is HTTPParserError ? UpstreamFailure.malformed : error)
        context.close(promise: nil)
    }

    private func protocolError() {
        fail(UpstreamFailure.malformed)
        context?.close(promise: nil)
    }

    /// Ends whatever is in flight with `error`; the connection is done.
    private func fail(_ error: any Error) {
        timer?.cancel()
        timer = nil
        let was = state
        state = .closed
        switch was {
        case .idle: pool.remove(self)
        case .waitingHead(let x), .gathering(let x, _, _): x.promise.fail(error)
        case .streaming(let source): source.finish(error)
        case .closed: break
        }
    }

    /// Closes the connection, failing whatever is in flight.
    func closeChannel() {
        fail(UpstreamFailure.closed)
        context?.close(promise: nil)
    }

    // MARK: Timeout

    /// Checks for silence after `delay`: before the head, or between reads of the body (an
    /// idle connection lets its timer lapse; the next exchange arms it again).
    private func arm(_ delay: TimeAmount) {
        guard let context else { return }
        let loop = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) { loop.value.checkSilence() }
    }

    private func checkSilence() {
        timer = nil
        let head: Bool
        switch state {
        case .waitingHead: head = true
        case .gathering, .streaming: head = false
        case .idle, .closed: return
        }
        let quietFor = NIODeadline.now() - lastRead
        if quietFor < readTimeout {
            arm(readTimeout - quietFor)
            return
        }
        fail(UpstreamFailure.timedOut(head: head))
        context?.close(promise: nil)
    }
}

/// The inbound end of an upstream connection's pipeline: NIO's HTTP/1.1 response decoder,
/// without its watch on outbound writes (the connection tells it each request's method, and
/// writes the request's bytes straight to the socket, past every handler).
struct UpstreamResponseDecoding: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart
    let decoder: HTTPResponseDecoder

    func decoderAdded(context: ChannelHandlerContext) { decoder.decoderAdded(context: context) }

    func decoderRemoved(context: ChannelHandlerContext) { decoder.decoderRemoved(context: context) }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
