import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// The event-loop path: the common request (a key, a well-formed non-streaming body, admitted
/// at once, an `http://` upstream) handled without leaving the connection's event loop, so it
/// costs no task switches. Everything else — errors, 429s, waiting, streams, `https://`
/// upstreams, `/healthz`, `/metrics` — takes the Hummingbird path (``respond(to:context:)``),
/// which decides it from scratch: the fast path takes nothing before it knows it can carry the
/// request. See ``FastProxyHandler``.
extension GatewayResponder {
    /// A request the event-loop path carries: admitted, with what it will send upstream.
    struct FastRequest {
        let client: ClientKey
        /// The request as the metrics (and a following dashboard) see it, until it is answered.
        let visit: GatewayVisit
        let counted: Bool
        let ticket: GatewayTicket
        let upstream: UpstreamRequest
        let target: UpstreamTarget
    }

    /// Whether a request head may take the fast path (its body decides the rest).
    func fastCandidate(_ head: HTTPRequest) -> Bool {
        guard let path = head.path, path.hasPrefix("/v1/") else { return false }
        switch head.method {
        case .post, .get, .put, .patch, .delete: break
        default: return false
        }
        // A client expecting 100-continue or a close after the answer: the Hummingbird path.
        if head.headerFields[.expect] != nil { return false }
        if let c = head.headerFields[.connection], c.lowercased().contains("close") { return false }
        return true
    }

    /// Admits `head` with `body` at once when the fast path can carry it; nil (having taken
    /// and counted nothing) for anything the Hummingbird path must decide.
    func fastAdmit(_ head: HTTPRequest, body: ByteBuffer) -> FastRequest? {
        guard let target = upstreamTarget, let fullPath = head.path else { return nil }
        let path = fullPath.firstIndex(of: "?").map { String(fullPath[..<$0]) } ?? fullPath
        guard let secret = ClientKey.secret(in: head.headerFields), let client = directory.client(for: secret) else { return nil }
        let route = head.method == .post ? CountedRoute(rawValue: path) : nil
        var estimate: TokenEstimate?
        if let route {
            guard let type = head.headerFields[.contentType], type.lowercased().hasPrefix("application/json") else { return nil }
            let scanned: RequestScan? = body.withUnsafeReadableBytes { bytes in try? RequestScan(bytes) }
            // Not JSON (400) or a stream (relayed as it arrives): the Hummingbird path.
            guard let scan = scanned, !scan.stream else { return nil }
            estimate = scan.estimate(route: route, defaultMaxTokens: config.defaultMaxTokens)
        }
        guard let ticket = limits.tryAdmit(client, estimate: estimate) else { return nil }
        let visit = metrics.arrived(client)
        metrics.decided(visit, admittedAfter: .zero, limited: false, estimated: estimate?.total ?? 0)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headerFields.count + 2)
        for field in head.headerFields where !GatewayResponder.notForwarded.contains(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        let hasBody = body.readableBytes > 0 || head.method == .post || head.method == .put || head.method == .patch
        let upstream = UpstreamRequest(method: HTTPMethod(rawValue: head.method.rawValue), uri: fullPath, headers: headers,
                                       body: hasBody ? body : nil)
        return FastRequest(client: client, visit: visit, counted: route != nil, ticket: ticket, upstream: upstream, target: target)
    }

    /// The client's answer to a fast request, its ticket settled: the upstream's answer with
    /// the rate-limit fields, or a 502/504 in OpenAI's shape.
    func fastAnswer(_ result: Result<UpstreamAnswer, any Error>, for request: FastRequest) -> (HTTPResponse, ByteBuffer) {
        switch result {
        case .success(let answer):
            var headers = answered(answer, client: request.client, visit: request.visit)
            let body: ByteBuffer
            if case .complete(let b) = answer.body { body = b } else { body = ByteBuffer() }   // gathered: always complete
            settle(request.ticket, status: answer.status, body: body, counted: request.counted, visit: request.visit,
                   headers: &headers)
            headers[.contentLength] = String(body.readableBytes)
            return (HTTPResponse(status: .init(code: Int(answer.status.code)), headerFields: headers), body)
        case .failure(let error):
            let e = upstreamFailure(error, ticket: request.ticket, client: request.client)
            let body = ByteBuffer(string: e.body)
            let headers: HTTPFields = [.contentType: "application/json", .contentLength: String(body.readableBytes)]
            return (HTTPResponse(status: e.status, headerFields: headers), body)
        }
    }
}
