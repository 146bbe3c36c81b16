import NIOConcurrencyHelpers
import NIOCore

/// Notices that a client connection's far end went away, so work done for it (a request
/// waiting for admission) can be abandoned and its reservation given back.
///
/// One per connection, in the server pipeline after the HTTP codec. "Gone" is the input
/// closing (the client's FIN or a reset; the server allows half-closure, so the channel itself
/// stays open until the answer is written) or the channel becoming inactive. Like nginx's
/// "client closed connection" check, an HTTP/1.1 client that half-closes after its request
/// counts as gone: practically no client does that and waits for the answer.
final class HangUpWatch: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    /// Every part passes through untouched (the default `channelRead` forwards it unread).
    typealias InboundIn = NIOAny

    private struct State {
        var gone = false
        var nextID = 0
        var onGone: [Int: @Sendable () -> Void] = [:]
    }
    private let state = NIOLockedValueBox(State())

    init() {}

    /// Whether the client is gone already.
    var isGone: Bool { state.withLockedValue { $0.gone } }

    /// Runs `action` once when the client goes (at once if it is gone already). Returns a
    /// registration for ``forget(_:)``.
    func onGone(_ action: @escaping @Sendable () -> Void) -> Int {
        let id = state.withLockedValue { s -> Int? in
            if s.gone { return nil }
            s.nextID += 1
            s.onGone[s.nextID] = action
            return s.nextID
        }
        guard let id else {
            action()
            return 0
        }
        return id
    }

    /// Drops a registration (the work finished first).
    func forget(_ id: Int) {
        _ = state.withLockedValue { $0.onGone.removeValue(forKey: id) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        markGone()
        context.fireChannelInactive()
    }

    private func markGone() {
        let actions = state.withLockedValue { s -> [@Sendable () -> Void] in
            guard !s.gone else { return [] }
            s.gone = true
            defer { s.onGone = [:] }
            return Array(s.onGone.values)
        }
        for a in actions { a() }
    }
}
