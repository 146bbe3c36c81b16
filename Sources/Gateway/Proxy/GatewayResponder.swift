import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The gateway's request handling: key, limits, upstream, headers. Routes:
/// `POST /v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/responses` (tokens
/// counted), anything else under `/v1/` (request limit only), `GET /healthz`, `GET /metrics`.
public final class GatewayResponder: HTTPResponder, Sendable {
    public typealias Context = BasicRequestContext

    let config: GatewayConfig
    public let limits: GatewayLimits
    public let metrics: GatewayMetrics
    let directory: KeyDirectory
    let client: HTTPClient
    /// Upstream base URL without a trailing slash (set once the mock upstream, if any, is bound).
    private let upstreamBase: Mutex<String>
    var upstream: String {
        get { upstreamBase.withLock { $0 } }
        set { upstreamBase.withLock { $0 = newValue.hasSuffix("/") ? String(newValue.dropLast()) : newValue } }
    }
    let logger: Logger

    init(config: GatewayConfig, upstream: String, client: HTTPClient, logger: Logger) throws {
        self.config = config
        let limits = try GatewayLimits(config)
        self.limits = limits
        metrics = GatewayMetrics(trackedKeys: config.trackedKeys, tuner: config.tuning.map { RefillTuner($0, limits: limits, logger: logger) })
        directory = KeyDirectory(config.keys, refuseUnknown: config.refuseUnknownKeys)
        self.client = client
        upstreamBase = Mutex(upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream)
        self.logger = logger
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if request.method == .get && path == "/healthz" {
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        if request.method == .get && path == "/metrics" {
            let bytes = metrics.exposition(keysHeld: limits.heldKeys)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        guard path.hasPrefix("/v1/") else { return OpenAIError.notFound(path).response() }
        return try await proxy(request, path: path)
    }

    private func proxy(_ request: Request, path: String) async throws -> Response {
        guard let secret = ClientKey.secret(in: request.headers) else { return OpenAIError.missingKey.response() }
        guard let client = directory.client(for: secret) else { return OpenAIError.unknownKey.response() }
        let route = request.method == .post ? CountedRoute(rawValue: path) : nil

        // The body, checked before anything is reserved.
        var body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: config.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return OpenAIError.tooLarge(limit: config.maxBodyBytes).response(headers: [.connection: "close"])
        }
        var estimate: TokenEstimate?
        var stream = false
        var dropUsageChunk = false
        if let route {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/json") else { return OpenAIError.wrongContentType(request.headers[.contentType]).response() }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
            } catch {
                return OpenAIError.badJSON("not valid JSON").response()
            }
            guard var json = object as? [String: Any] else { return OpenAIError.badJSON("expected a JSON object").response() }
            estimate = TokenEstimate(body: json, route: route, defaultMaxTokens: config.defaultMaxTokens)
            stream = (json["stream"] as? Bool) == true
            if stream && (route == .chatCompletions || route == .completions) {
                var options = json["stream_options"] as? [String: Any] ?? [:]
                if (options["include_usage"] as? Bool) != true {
                    // Ask for usage so a stream's tokens are enforced too; hide it again below.
                    options["include_usage"] = true
                    json["stream_options"] = options
                    dropUsageChunk = true
                    if let data = try? JSONSerialization.data(withJSONObject: json) { body = ByteBuffer(bytes: data) }
                }
            }
        }

        // Admission.
        let visit = metrics.arrived(client)
        let admission: GatewayAdmission
        do {
            admission = try await limits.admit(client, estimate: estimate, maxWait: config.maxWait)
        } catch {
            metrics.decided(visit, admittedAfter: nil, limited: false, estimated: 0)
            throw error
        }
        let ticket: GatewayTicket
        switch admission {
        case .limited(let refusal):
            metrics.decided(visit, admittedAfter: nil, limited: true, estimated: 0)
            return limitedResponse(refusal, client: client, estimate: estimate)
        case .admitted(let t):
            ticket = t
            metrics.decided(visit, admittedAfter: t.waited, limited: false, estimated: estimate?.total ?? 0)
        }

        // Upstream.
        var outgoing = HTTPClientRequest(url: upstream + request.uri.description)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !GatewayResponder.hopByHop.contains(field.name.canonicalName)
            && field.name.canonicalName != "accept-encoding" {   // plain bodies, so usage can be read
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if body.readableBytes > 0 || request.method == .post || request.method == .put || request.method == .patch {
            outgoing.body = .bytes(body)
        }
        let answer: HTTPClientResponse
        do {
            answer = try await self.client.execute(outgoing, timeout: .nanoseconds(Int64(config.upstreamTimeout.inSeconds * 1e9)))
        } catch {
            return upstreamFailure(error, ticket: ticket, client: client)
        }
        metrics.upstreamAnswered(visit, status: Int(answer.status.code), headers: answer.headers)

        var headers = HTTPFields()
        for h in answer.headers where !GatewayResponder.hopByHop.contains(h.name.lowercased())
            && !h.name.lowercased().hasPrefix("x-ratelimit-") {
            if let name = HTTPField.Name(h.name) { headers.append(HTTPField(name: name, value: h.value)) }
        }
        let status = HTTPResponse.Status(code: Int(answer.status.code))
        if answer.status == .tooManyRequests {
            logger.info("upstream 429 passed through", metadata: ["key": "\(client.id)"])
        }
        let limits = self.limits
        let metrics = self.metrics
        let isStream = (answer.headers.first(name: "content-type") ?? "").lowercased().hasPrefix("text/event-stream")
        let success = (200..<300).contains(Int(answer.status.code))
        if !success {
            // The upstream generated nothing: its answer costs no tokens.
            limits.reconcile(ticket, usage: TokenUsage(input: 0, output: 0))
        }
        if isStream && success {
            let upstreamBody = answer.body
            let dropUsageChunk = dropUsageChunk
            let responseBody = ResponseBody { writer in
                var filter = SSEUsageFilter(dropUsageChunk: dropUsageChunk)
                do {
                    for try await chunk in upstreamBody {
                        if let out = filter.feed(chunk) { try await writer.write(out) }
                    }
                    if let rest = filter.finish() { try await writer.write(rest) }
                } catch {
                    // Cut off (client gone or upstream failed): usage if it came, else the
                    // estimate stays taken.
                    if let usage = filter.usage {
                        limits.reconcile(ticket, usage: usage)
                        metrics.reconciled(visit, tokens: usage.total)
                    }
                    throw error
                }
                if let usage = filter.usage {
                    limits.reconcile(ticket, usage: usage)
                    metrics.reconciled(visit, tokens: usage.total)
                }
                try await writer.finish(nil)
            }
            RateLimitHeaders.add(limits.status(bucket: ticket.bucket), to: &headers)
            return Response(status: status, headers: headers, body: responseBody)
        }
        let collected: ByteBuffer
        do {
            collected = try await answer.body.collect(upTo: GatewayResponder.maxUpstreamBody)
        } catch {
            return upstreamFailure(error, ticket: nil, client: client)
        }
        if success, route != nil, let usage = TokenUsage(responseBody: collected.readableBytesView) {
            limits.reconcile(ticket, usage: usage)
            metrics.reconciled(visit, tokens: usage.total)
        }
        // After reconciling, so `remaining` already reflects the real usage.
        RateLimitHeaders.add(limits.status(bucket: ticket.bucket), to: &headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: collected))
    }

    /// Largest non-streamed upstream answer relayed.
    static let maxUpstreamBody = 64 << 20

    /// Headers that belong to one connection, not to the request or response.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                                        "trailer", "upgrade", "host", "content-length", "proxy-authenticate",
                                        "proxy-authorization"]

    /// 502 or 504 in OpenAI's shape. `ticket` is given back when nothing reached the upstream.
    private func upstreamFailure(_ error: any Error, ticket: GatewayTicket?, client: ClientKey) -> Response {
        let timedOut: Bool
        var nothingSent = false
        switch error {
        case let e as HTTPClientError where e == .deadlineExceeded || e == .readTimeout:
            timedOut = true
        case let e as HTTPClientError where e == .connectTimeout:
            timedOut = true
            nothingSent = true
        case is ChannelError:
            timedOut = false
            nothingSent = true
        default:
            timedOut = false
            nothingSent = "\(error)".lowercased().contains("connect")
        }
        if nothingSent, let ticket { limits.giveBack(ticket) }
        metrics.upstreamAnswered(nil, status: timedOut ? 504 : 502)
        logger.warning("upstream failed", metadata: ["key": "\(client.id)", "error": "\(error)"])
        let e = timedOut ? OpenAIError.upstreamTimeout(seconds: config.upstreamTimeout.inSeconds)
                         : OpenAIError.upstreamUnreachable(String(describing: error))
        return e.response()
    }

    /// The 429 for a refusal, with its headers, logged as one line.
    private func limitedResponse(_ refusal: GatewayRefusal, client: ClientKey, estimate: TokenEstimate?) -> Response {
        var headers = HTTPFields()
        RateLimitHeaders.add(limits.status(bucket: refusal.bucket), to: &headers)
        let what = refusal.dimension == .requests ? "requests" : "tokens"
        let unit = refusal.dimension == .requests ? "request" : "tokens"
        let message: String
        if refusal.neverFits {
            headers[RateLimitHeaders.shouldRetry] = "false"
            message = "Request too large for \(client.id) on \(refusal.dimension.rawValue): it needs "
                + "\(RateLimitHeaders.whole(refusal.cost)) \(unit) but the bucket holds at most "
                + "\(RateLimitHeaders.whole(refusal.capacity ?? 0)), so it can never be admitted. Lower max_tokens or the prompt."
        } else {
            let wait = refusal.retryAfter ?? .zero
            RateLimitHeaders.addRetry(after: wait, to: &headers)
            let seconds = wait.inSeconds
            if seconds > GatewayResponder.longestClientWait {
                headers[RateLimitHeaders.shouldRetry] = "false"
                message = "Rate limit reached for \(client.id) on \(refusal.dimension.rawValue): this request would be admitted "
                    + "in \(RateLimitHeaders.goDuration(seconds)), longer than the \(Int(GatewayResponder.longestClientWait)) s "
                    + "clients wait, so retrying sooner cannot fit it. Lower max_tokens or wait."
            } else {
                message = "Rate limit reached for \(client.id) on \(refusal.dimension.rawValue). Please try again in "
                    + "\(RateLimitHeaders.goDuration(seconds))."
            }
        }
        logger.info("429 limited", metadata: [
            "key": "\(client.id)", "bucket": "\(refusal.bucket)", "dimension": "\(refusal.dimension.rawValue)",
            "retry_after": "\(refusal.retryAfter.map { RateLimitHeaders.goDuration($0.inSeconds) } ?? "never")",
            "estimate": "\(estimate?.total ?? 0)",
        ])
        return OpenAIError(status: .tooManyRequests, type: what, code: "rate_limit_exceeded", message: message)
            .response(headers: headers)
    }

    /// openai-python stops retrying past 2 minutes; a longer Retry-After is said to be one.
    static let longestClientWait: Double = 120
}
