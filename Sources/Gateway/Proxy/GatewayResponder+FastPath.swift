import NIOCore
import NIOHTTP1

/// The event-loop path: the common request (a key, a well-formed non-streaming body, admitted
/// at once, an `http://` upstream) handled without leaving the connection's event loop and
/// without the Hummingbird request types, so it costs no task switch and no conversion.
/// Everything else — errors, 429s, waiting, streams, `https://` upstreams, `/healthz`,
/// `/metrics` — takes the Hummingbird path (``respond(to:context:)``), which decides it from
/// scratch: the fast path takes nothing before it knows it can carry the request. See
/// ``ClientConnection``.
extension GatewayResponder {
    /// A request the event-loop path carries: admitted, with what it will send upstream.
    struct FastRequest {
        let client: ClientKey
        /// The request as the metrics (and a following dashboard) see it, until it is answered.
        let visit: GatewayVisit
        let counted: Bool
        let ticket: GatewayTicket
        /// The bucket set's levels at admission, for the answer's rate-limit fields.
        let levels: GatewayLevels
        let upstream: UpstreamRequest
        let target: UpstreamTarget
    }

    /// Whether a request head may take the fast path (its body decides the rest): HTTP/1.1
    /// keep-alive, under `/v1/`, a method with nothing special about it, no `expect`.
    func fastCandidate(_ head: HTTPRequestHead) -> Bool {
        guard head.version == .http1_1, head.uri.utf8.starts(with: "/v1/".utf8) else { return false }
        switch head.method {
        case .POST, .GET, .PUT, .PATCH, .DELETE: break
        default: return false
        }
        return !head.headers.contains(name: "expect") && head.isKeepAlive
    }

    /// What the fast path does with a whole request.
    enum FastOutcome {
        /// Admitted: send it upstream.
        case proxy(FastRequest)
        /// Answered here, its bytes in the caller's buffer: a 429 refused at once.
        case answer
        /// The Hummingbird path decides (nothing taken or counted).
        case decline
    }

    /// Admits `head` with `body` at once when the fast path can carry it, or refuses it at
    /// once with its 429 (no `--max-wait`: the refusal is decided without waiting); anything
    /// else is for the Hummingbird path. `keys` is the connection's cache of its last API key
    /// (a connection nearly always carries one key).
    func fastDecide(_ head: HTTPRequestHead, body: ByteBuffer, keys: inout FastKeyCache,
                    buffer: inout ByteBuffer) -> FastOutcome {
        guard let target = upstreamTarget, let client = keys.client(for: head.headers, in: directory) else { return .decline }
        guard let (route, estimate) = fastEstimate(head, body: body) else { return .decline }
        guard let (ticket, levels) = limits.tryAdmit(client, estimate: estimate) else {
            guard config.maxWait == .zero, let refusal = limits.refusalNow(client, estimate: estimate) else { return .decline }
            metrics.limitedAtOnce(client, cached: &keys.row)
            let (error, headers) = limitedAnswer(refusal, client: client, estimate: estimate)
            let body = ByteBuffer(string: error.body)
            Self.writeStatusLine(Int(error.status.code), error.status.reasonPhrase, into: &buffer)
            for field in headers {
                buffer.writeString(field.name.rawName)
                buffer.writeStaticString(": ")
                buffer.writeString(field.value)
                buffer.writeStaticString("\r\n")
            }
            buffer.writeStaticString("content-type: application/json\r\n")
            Self.writeBody(body, into: &buffer)
            return .answer
        }
        let visit = metrics.admittedAtOnce(client, estimated: estimate?.total ?? 0, cached: &keys.row)
        let hasBody = body.readableBytes > 0 || head.method == .POST || head.method == .PUT || head.method == .PATCH
        // The client's fields as they came: the connection's own are left out when written.
        let upstream = UpstreamRequest(method: head.method, uri: head.uri, headers: head.headers, body: hasBody ? body : nil)
        return .proxy(FastRequest(client: client, visit: visit, counted: route != nil, ticket: ticket, levels: levels,
                                  upstream: upstream, target: target))
    }

    /// The counted route and token estimate of a request the fast path can read; nil when it
    /// cannot (not JSON: 400, wrong type: 415, a stream: relayed as it arrives), for the
    /// Hummingbird path. Routes that are not counted have no estimate.
    private func fastEstimate(_ head: HTTPRequestHead, body: ByteBuffer) -> (CountedRoute?, TokenEstimate?)? {
        guard head.method == .POST else { return (nil, nil) }
        let fullPath = head.uri
        let path = fullPath.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(fullPath[..<$0]) } ?? fullPath
        guard let route = CountedRoute(rawValue: path) else { return (nil, nil) }
        guard let type = head.headers.first(name: "content-type"), HeaderName.isJSON(type) else { return nil }
        let scanned: RequestScan? = body.withUnsafeReadableBytes { bytes in try? RequestScan(bytes) }
        guard let scan = scanned, !scan.stream else { return nil }
        return (route, scan.estimate(route: route, defaultMaxTokens: config.defaultMaxTokens))
    }

    /// The client's answer to a fast request as HTTP/1.1 bytes written into `out`, its ticket
    /// settled: the upstream's answer with the rate-limit fields, or a 502/504 in OpenAI's shape.
    func fastAnswer(_ result: Result<UpstreamAnswer, any Error>, for request: FastRequest, into out: inout ByteBuffer) {
        switch result {
        case .success(let answer):
            count(answer, client: request.client, visit: request.visit)
            let body: ByteBuffer
            if case .complete(let b) = answer.body { body = b } else { body = ByteBuffer() }   // gathered: always complete
            var levels = request.levels
            reconcile(request.ticket, status: answer.status, body: body, counted: request.counted, visit: request.visit,
                      levels: &levels)
            out.reserveCapacity(minimumWritableBytes: 640 + body.readableBytes)
            Self.writeStatusLine(Int(answer.status.code), answer.status.reasonPhrase, into: &out)
            for (name, value) in answer.headers where HeaderName.isRelayed(name) {
                out.writeString(name)
                out.writeStaticString(": ")
                out.writeString(value)
                out.writeStaticString("\r\n")
            }
            RateLimitHeaders.write(levels, into: &out)
            Self.writeBody(body, into: &out)
        case .failure(let error):
            let e = upstreamFailure(error, ticket: request.ticket, client: request.client)
            let body = ByteBuffer(string: e.body)
            Self.writeStatusLine(Int(e.status.code), e.status.reasonPhrase, into: &out)
            out.writeStaticString("content-type: application/json\r\n")
            Self.writeBody(body, into: &out)
        }
    }

    private static func writeStatusLine(_ code: Int, _ reason: String, into out: inout ByteBuffer) {
        out.writeStaticString("HTTP/1.1 ")
        RateLimitHeaders.writeDecimal(Int64(code), into: &out)
        out.writeStaticString(" ")
        out.writeString(reason)
        out.writeStaticString("\r\n")
    }

    /// `content-length`, the blank line and the body.
    private static func writeBody(_ body: ByteBuffer, into out: inout ByteBuffer) {
        out.writeStaticString("content-length: ")
        RateLimitHeaders.writeDecimal(Int64(body.readableBytes), into: &out)
        out.writeStaticString("\r\n\r\n")
        out.writeImmutableBuffer(body)
    }
}

/// A connection's last API key fields and the client they name: most connections carry one
/// key for their whole life, so the key's parsing, lookup and fingerprint are done once per
/// connection, and its metrics row found once.
struct FastKeyCache {
    private var fields: (authorization: String?, apiKey: String?)?
    private var client: ClientKey?
    /// The cached client's metrics row, once known.
    var row: KeyRow?

    /// The client of the request's key, as ``ClientKey/secret(authorization:apiKey:)`` reads it;
    /// nil when there is none or it is refused (the Hummingbird path answers 401).
    mutating func client(for headers: HTTPHeaders, in directory: KeyDirectory) -> ClientKey? {
        let authorization = headers.first(name: "authorization")
        let apiKey = headers.first(name: "x-api-key")
        if let client, let fields, fields.authorization == authorization, fields.apiKey == apiKey { return client }
        guard let secret = ClientKey.secret(authorization: authorization, apiKey: apiKey),
              let found = directory.client(for: secret) else { return nil }
        if found != client { row = nil }
        fields = (authorization, apiKey)
        client = found
        return found
    }
}
