import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel (as `HTTP1Channel` sets it up) with the gateway's
/// handlers: ``ClientConnection`` right after NIO's HTTP/1.1 codec (the event-loop fast path,
/// and the connection's idle timeout and graceful shutdown for both paths, in place of
/// Hummingbird's `HTTPConnectionStateHandler`), then the conversion to Hummingbird's types,
/// then ``HangUpWatch``.
struct GatewayHTTP1Channel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let gateway: GatewayResponder
    let fastPath: Bool
    let idleTimeout: TimeAmount?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                 withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                 withDecoderLimitConfiguration: .init())
            try sync.addHandler(ClientConnection(responder: gateway, fastPath: fastPath, maxBody: gateway.config.maxBodyBytes,
                                                 idleTimeout: idleTimeout))
            try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try sync.addHandler(HangUpWatch())
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
