/// Why a call to Redis did not return a reply. Every case leaves the caller free to continue:
/// none of them hangs, and the client replaces a connection it had to drop.
public enum RedisError: Error, Hashable, CustomStringConvertible {
    /// No reply within the call's timeout. The connection was closed (replies are matched in
    /// order, so a late reply would answer the wrong caller) and is replaced on the next call.
    case timeout(milliseconds: Int64)
    /// The connection closed with the call in flight, or closed because another call on it
    /// timed out. Whether the command ran is unknown.
    case connectionClosed
    /// No connection could be made; further attempts are held back until the backoff ends.
    case unavailable(String)
    /// The server answered with an error reply (`-ERR …`, `-NOSCRIPT …`).
    case server(String)
    /// The server's reply had an unexpected shape.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .timeout(let ms): "Redis did not answer within \(ms) ms"
        case .connectionClosed: "the Redis connection closed with the call in flight"
        case .unavailable(let why): "Redis unavailable: \(why)"
        case .server(let message): "Redis error: \(message)"
        case .unexpectedReply(let what): "unexpected Redis reply: \(what)"
        }
    }
}
