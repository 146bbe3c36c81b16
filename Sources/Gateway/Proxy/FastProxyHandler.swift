import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The gateway's event-loop fast path, in each client connection's pipeline just before
/// Hummingbird's request handling (after its connection-state handler, which so still sees
/// every request and answer: idle timeouts and graceful shutdown cover both paths).
///
/// A request that may qualify (``GatewayResponder/fastCandidate(_:)``) is held here until its
/// body is complete; if ``GatewayResponder/fastAdmit(_:body:)`` admits it, it goes upstream on
/// this event loop's pool and its answer is written from the same loop: no task, no thread
/// switch. Otherwise its parts go on to Hummingbird untouched, as if this handler were not
/// there. Answers stay in request order: nothing takes the fast path while Hummingbird still
/// owes an answer on the connection, and requests that arrive while a fast one is in flight
/// (pipelined) wait for it.
final class FastProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Mode {
        /// Between requests.
        case idle
        /// Holding a candidate request until its end.
        case collecting(HTTPRequest, ByteBuffer?)
        /// A fast request is upstream.
        case proxying
        /// Passing the current request's parts to Hummingbird.
        case forwarding
    }

    private let responder: GatewayResponder
    private let maxBody: Int
    private var mode = Mode.idle
    /// Requests handed to Hummingbird whose answers have not ended yet.
    private var owedByHummingbird = 0
    /// Parts that arrived while a fast request was in flight, in order.
    private var queued: [HTTPRequestPart] = []
    /// A read held back while too much is queued.
    private var heldRead = false
    private var replaying = false

    init(responder: GatewayResponder, maxBody: Int) {
        self.responder = responder
        self.maxBody = maxBody
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(unwrapInboundIn(data), context: context)
    }

    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch mode {
        case .proxying:
            queued.append(part)
        case .forwarding:
            if case .end = part { mode = .idle }
            context.fireChannelRead(wrapInboundOut(part))
        case .idle:
            if case .head(let head) = part, owedByHummingbird == 0, responder.fastCandidate(head) {
                mode = .collecting(head, nil)
            } else {
                if case .head = part {
                    owedByHummingbird += 1
                    mode = .forwarding
                }
                context.fireChannelRead(wrapInboundOut(part))
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
    private func handOver(_ head: HTTPRequest, _ body: ByteBuffer?, ended: Bool, context: ChannelHandlerContext) {
        owedByHummingbird += 1
        mode = ended ? .idle : .forwarding
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
        if ended { context.fireChannelRead(wrapInboundOut(.end(nil))) }
    }

    private func proxy(_ head: HTTPRequest, _ body: ByteBuffer, context: ChannelHandlerContext) {
        guard let request = responder.fastAdmit(head, body: body) else {
            handOver(head, body.readableBytes > 0 ? body : nil, ended: true, context: context)
            return
        }
        mode = .proxying
        let answer = responder.pool.sendGathering(request.upstream, target: request.target, on: context.eventLoop)
        answer.assumeIsolated().whenComplete { [self] result in
            let (response, body) = responder.fastAnswer(result, for: request)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            mode = .idle
            replayQueued(context: context)
        }
    }

    /// Handles what arrived during a fast request, in order, until another one is in flight.
    private func replayQueued(context: ChannelHandlerContext) {
        guard !replaying else { return }
        replaying = true
        defer { replaying = false }
        var handled = false
        while !queued.isEmpty {
            if case .proxying = mode { break }
            receive(queued.removeFirst(), context: context)
            handled = true
        }
        // Outside a read cycle: Hummingbird's channel takes reads in at read-complete.
        if handled { context.fireChannelReadComplete() }
        if heldRead && queued.count < FastProxyHandler.maxQueued {
            heldRead = false
            context.read()
        }
    }

    /// Pipelined parts held at most before reading stops.
    static let maxQueued = 64

    func read(context: ChannelHandlerContext) {
        if queued.count >= FastProxyHandler.maxQueued { heldRead = true } else { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Hummingbird's answers pass through; their end settles what it owes.
        if case .end = unwrapOutboundIn(data), owedByHummingbird > 0 {
            owedByHummingbird -= 1
            context.write(data, promise: promise)
            if owedByHummingbird == 0, case .idle = mode { replayQueued(context: context) }
            return
        }
        context.write(data, promise: promise)
    }
}
