import Hummingbird
import NIOCore

/// Hummingbird's per-request context, keeping the client's channel: the gateway watches it
/// for a hang-up while a request waits for admission (see ``HangUpWatch``).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
