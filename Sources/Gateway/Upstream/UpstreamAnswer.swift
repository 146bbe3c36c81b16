import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A request as the gateway sends it upstream: target-relative URI, the client's headers (the
/// fields that belong to the client's connection are left out when it is written), the whole
/// body.
struct UpstreamRequest: Sendable {
    var method: HTTPMethod
    /// Path and query, without the target's prefix.
    var uri: String
    var headers: HTTPHeaders
    var body: ByteBuffer?

    /// Bodies up to this size are copied into the head's buffer (one write); larger ones are
    /// written as they are.
    static let inlineBody = 16 << 10

    /// Writes the request line and fields for `target` into `buffer`: `host` names the
    /// target, `content-length` the body (whenever there is one), and the fields of
    /// ``GatewayResponder/notForwarded`` stay out. Appends the body when it is small; returns
    /// it otherwise, to be written after.
    func serialize(into buffer: inout ByteBuffer, target: UpstreamTarget) -> ByteBuffer? {
        buffer.writeString(method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(target.pathPrefix)
        buffer.writeString(uri)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        for (name, value) in headers where !HeaderName.isNotForwarded(name) {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("host: ")
        buffer.writeString(target.hostField)
        buffer.writeStaticString("\r\n")
        guard let body else {
            buffer.writeStaticString("\r\n")
            return nil
        }
        buffer.writeStaticString("content-length: ")
        RateLimitHeaders.writeDecimal(Int64(body.readableBytes), into: &buffer)
        buffer.writeStaticString("\r\n\r\n")
        if body.readableBytes <= Self.inlineBody {
            buffer.writeImmutableBuffer(body)
            return nil
        }
        return body
    }
}

/// The upstream's answer: status and headers, then the body, whole or as it arrives.
struct UpstreamAnswer: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: UpstreamBody
}

/// An answer's body. Event streams (`text/event-stream`) come as they arrive; everything else
/// whole (the gateway reads usage from it before answering).
enum UpstreamBody: Sendable {
    case complete(ByteBuffer)
    /// From ``UpstreamPool``: chunks as the upstream sends them, with back-pressure.
    case stream(UpstreamBodyStream)
    /// From AsyncHTTPClient (https upstreams).
    case client(HTTPClientResponse.Body)

    /// Each chunk in order (the whole body as one chunk when complete).
    func forEachChunk(_ body: (ByteBuffer) async throws -> Void) async throws {
        switch self {
        case .complete(let b): if b.readableBytes > 0 { try await body(b) }
        case .stream(let s): for try await chunk in s { try await body(chunk) }
        case .client(let s): for try await chunk in s { try await body(chunk) }
        }
    }

    /// The whole body, up to `limit` bytes.
    func collect(upTo limit: Int) async throws -> ByteBuffer {
        if case .complete(let b) = self { return b }
        var all = ByteBuffer()
        try await forEachChunk { chunk in
            guard all.readableBytes + chunk.readableBytes <= limit else { throw UpstreamFailure.tooLarge }
            all.writeImmutableBuffer(chunk)
        }
        return all
    }
}

/// Why an upstream exchange failed, and whether the upstream can have seen the request.
enum UpstreamFailure: Error, Sendable, CustomStringConvertible {
    /// No connection: nothing was sent.
    case unreachable(String)
    /// No connection within the connect timeout: nothing was sent.
    case connectTimedOut
    /// Silent for longer than the read timeout: before its answer began (`head`) or within it.
    case timedOut(head: Bool)
    /// The connection ended before the answer did.
    case closed
    /// A non-streamed answer over the relay limit.
    case tooLarge
    /// The upstream spoke something other than HTTP/1.1.
    case malformed

    var description: String {
        switch self {
        case .unreachable(let why): return "upstream unreachable: \(why)"
        case .connectTimedOut: return "connect to the upstream timed out"
        case .timedOut(let head): return head ? "no answer from the upstream in time" : "upstream went silent mid-answer"
        case .closed: return "upstream closed the connection before its answer ended"
        case .tooLarge: return "upstream answer too large"
        case .malformed: return "upstream answer is not valid HTTP/1.1"
        }
    }
}
