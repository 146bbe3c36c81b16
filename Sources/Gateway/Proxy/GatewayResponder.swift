import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import NIOCore
import NIOHTTP1
import Synchronization

/// The gateway's request handling: key, limits, upstream, headers. Routes:
/// `POST /v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/responses` (tokens
/// counted), anything else under `/v1/` (request limit only), `GET /healthz`, `GET /metrics`.
public final class GatewayResponder: HTTPResponder, Sendable {
    public typealias Context = GatewayRequestContext

    let config: GatewayConfig
    public let limits: GatewayLimits
    public let metrics: GatewayMetrics
    let directory: KeyDirectory
    /// For `https://` upstreams (TLS).
    let client: HTTPClient
    /// For `http://` upstreams: the lean keep-alive client on the server's event loops.
    let pool: UpstreamPool
    /// Upstream base URL without a trailing slash (set once the mock upstream, if any, is
    /// bound), and its parsed form when ``pool`` serves it.
    private let upstreamBase: Mutex<(url: String, target: UpstreamTarget?)>
    var upstream: String {
        get { upstreamBase.withLock { $0.url } }
        set { upstreamBase.withLock { $0 = Self.base(newValue) } }
    }
    /// The `http://` upstream the pool serves, nil for one AsyncHTTPClient serves.
    var upstreamTarget: UpstreamTarget? { upstreamBase.withLock { $0.target } }
    let logger: Logger

    init(config: GatewayConfig, upstream: String, client: HTTPClient, pool: UpstreamPool, logger: Logger) throws {
        self.config = config
        let registry = PrometheusCollectorRegistry()
        let limits = try GatewayLimits(config, logger: logger, registry: registry)
        self.limits = limits
        metrics = GatewayMetrics(trackedKeys: config.trackedKeys,
                                 tuner: config.tuning.map { RefillTuner($0, limits: limits, logger: logger) }, registry: registry)
        directory = KeyDirectory(config.keys, refuseUnknown: config.refuseUnknownKeys)
        self.client = client
        self.pool = pool
        upstreamBase = Mutex(Self.base(upstream))
        self.logger = logger
    }

    private static func base(_ url: String) -> (url: String, target: UpstreamTarget?) {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        return (trimmed, UpstreamTarget(url: trimmed))
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
        return try await proxy(request, path: path, channel: context.channel)
    }

    private func proxy(_ request: Request, path: String, channel: any Channel) async throws -> Response {
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
            guard HeaderName.isJSON(request.headers[.contentType] ?? "") else {
                return OpenAIError.wrongContentType(request.headers[.contentType]).response()
            }
            let scanned: Result<RequestScan, RequestScan.Failure> = body.withUnsafeReadableBytes { bytes in
                do throws(RequestScan.Failure) { return .success(try RequestScan(bytes)) } catch { return .failure(error) }
            }
            let scan: RequestScan
            switch scanned {
            case .failure(.invalid): return OpenAIError.badJSON("not valid JSON").response()
            case .failure(.notAnObject): return OpenAIError.badJSON("expected a JSON object").response()
            case .success(let s): scan = s
            }
            estimate = scan.estimate(route: route, defaultMaxTokens: config.defaultMaxTokens)
            stream = scan.stream
            if stream && (route == .chatCompletions || route == .completions) && scan.includeUsage?.isTrue != true {
                // Ask for usage so a stream's tokens are enforced too; hide it again below.
                dropUsageChunk = true
                body = ByteBuffer(bytes: body.withUnsafeReadableBytes { scan.askingForUsage($0) })
            }
        }

        // Admission.
        let visit = metrics.arrived(client)
        let admission: GatewayAdmission
        do {
            admission = try await admit(client, estimate: estimate, channel: channel)
        } catch {
            metrics.decided(visit, admittedAfter: nil, limited: false, estimated: 0)
            if error is CancellationError {
                logger.info("client gone while waiting: reservation given back", metadata: ["key": "\(client.id)"])
            }
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
        case .unavailable(let outage):
            metrics.decided(visit, admittedAfter: nil, limited: false, estimated: 0)
            return outage.response()
        }

        // Upstream.
        let answer: UpstreamAnswer
        do {
            answer = try await send(request, body: body, on: channel.eventLoop)
        } catch {
            return upstreamFailure(error, ticket: ticket, client: client).response()
        }
        var headers = answered(answer, client: client, visit: visit)
        let status = HTTPResponse.Status(code: Int(answer.status.code))
        let limits = self.limits
        let metrics = self.metrics
        let isStream = (answer.headers.first(name: "content-type") ?? "").lowercased().hasPrefix("text/event-stream")
        let success = (200..<300).contains(Int(answer.status.code))
        if isStream && success {
            let upstreamBody = answer.body
            let dropUsageChunk = dropUsageChunk
            let responseBody = ResponseBody { writer in
                var filter = SSEUsageFilter(dropUsageChunk: dropUsageChunk)
                do {
                    try await upstreamBody.forEachChunk { chunk in
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
            return upstreamFailure(error, ticket: nil, client: client).response()
        }
        settle(ticket, status: answer.status, body: collected, counted: route != nil, visit: visit, headers: &headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: collected))
    }

    /// Counts an upstream answer and returns the headers relayed to the client (hop-by-hop
    /// fields and the upstream's own rate-limit fields left out). A failed answer generated
    /// nothing: its reservation's tokens come back at once.
    func answered(_ answer: UpstreamAnswer, client: ClientKey, visit: GatewayVisit) -> HTTPFields {
        count(answer, client: client, visit: visit)
        var headers = HTTPFields()
        for h in answer.headers where HeaderName.isRelayed(h.name) {
            if let name = HTTPField.Name(h.name) { headers.append(HTTPField(name: name, value: h.value)) }
        }
        return headers
    }

    /// Counts an upstream answer (and logs a 429 passed through): both paths.
    func count(_ answer: UpstreamAnswer, client: ClientKey, visit: GatewayVisit) {
        metrics.upstreamAnswered(visit, status: Int(answer.status.code), headers: answer.headers)
        if answer.status == .tooManyRequests {
            logger.info("upstream 429 passed through", metadata: ["key": "\(client.id)"])
        }
    }

    /// Settles a whole (non-streamed) answer: reconciles the ticket with the body's usage
    /// (counted routes) or with nothing (a failed answer), then adds the rate-limit fields,
    /// after reconciling so `remaining` already reflects the real usage.
    func settle(_ ticket: GatewayTicket, status: HTTPResponseStatus, body: ByteBuffer, counted: Bool, visit: GatewayVisit,
                headers: inout HTTPFields) {
        var levels = GatewayLevels()
        reconcile(ticket, status: status, body: body, counted: counted, visit: visit, levels: &levels)
        RateLimitHeaders.add(limits.status(bucket: ticket.bucket), to: &headers)
    }

    /// Reconciles a whole answer's ticket: with the body's usage on a counted route's success,
    /// with nothing used on a failure (it generated nothing: the tokens come back at once).
    /// `levels` take the reconciled buckets' levels.
    func reconcile(_ ticket: GatewayTicket, status: HTTPResponseStatus, body: ByteBuffer, counted: Bool, visit: GatewayVisit,
                   levels: inout GatewayLevels) {
        if !(200..<300).contains(Int(status.code)) {
            limits.reconcile(ticket, usage: TokenUsage(input: 0, output: 0), levels: &levels)
        } else if counted, let usage = TokenUsage(responseBody: body) {
            limits.reconcile(ticket, usage: usage, levels: &levels)
            metrics.reconciled(visit, tokens: usage.total)
        }
    }

    /// Admission, abandoned (its reservation given back, the waiters behind it moving up) when
    /// the client hangs up while waiting. Without `--max-wait` nothing waits, so nothing is watched.
    private func admit(_ client: ClientKey, estimate: TokenEstimate?, channel: any Channel) async throws -> GatewayAdmission {
        let maxWait = config.maxWait
        guard maxWait > .zero, let watch = try? await channel.pipeline.handler(type: HangUpWatch.self).get() else {
            return try await limits.admit(client, estimate: estimate, maxWait: maxWait)
        }
        let limits = self.limits
        let admission = Task { try await limits.admit(client, estimate: estimate, maxWait: maxWait) }
        let registration = watch.onGone { admission.cancel() }
        defer { watch.forget(registration) }
        return try await withTaskCancellationHandler {
            try await admission.value
        } onCancel: {
            admission.cancel()
        }
    }

    /// Sends the request upstream: the lean pool for `http://`, AsyncHTTPClient for `https://`.
    /// Hop-by-hop fields stay here; `accept-encoding` too (plain bodies, so usage can be read)
    /// and `expect` (the whole body is sent at once): ``HeaderName/isNotForwarded(_:)``.
    private func send(_ request: Request, body: ByteBuffer, on eventLoop: any EventLoop) async throws -> UpstreamAnswer {
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 2)
        for field in request.headers where !HeaderName.isNotForwarded(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        let method = request.method
        let hasBody = body.readableBytes > 0 || method == .post || method == .put || method == .patch
        let (base, target) = upstreamBase.withLock { $0 }
        if let target {
            let outgoing = UpstreamRequest(method: HTTPMethod(rawValue: method.rawValue), uri: request.uri.description,
                                           headers: headers, body: hasBody ? body : nil)
            return try await pool.send(outgoing, target: target, on: eventLoop)
        }
        var outgoing = HTTPClientRequest(url: base + request.uri.description)
        outgoing.method = HTTPMethod(rawValue: method.rawValue)
        outgoing.headers = headers
        if hasBody { outgoing.body = .bytes(body) }
        let answer = try await client.execute(outgoing, timeout: .nanoseconds(Int64(config.upstreamTimeout.inSeconds * 1e9)))
        return UpstreamAnswer(status: answer.status, headers: answer.headers, body: .client(answer.body))
    }

    /// Largest non-streamed upstream answer relayed.
    static let maxUpstreamBody = 64 << 20

    /// 502 or 504 in OpenAI's shape. `ticket` is given back when nothing reached the upstream.
    func upstreamFailure(_ error: any Error, ticket: GatewayTicket?, client: ClientKey) -> OpenAIError {
        let timedOut: Bool
        var nothingSent = false
        switch error {
        case let e as UpstreamFailure:
            switch e {
            case .unreachable: timedOut = false; nothingSent = true
            case .connectTimedOut: timedOut = true; nothingSent = true
            case .timedOut: timedOut = true
            case .closed, .tooLarge, .malformed: timedOut = false
            }
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
        return timedOut ? OpenAIError.upstreamTimeout(seconds: config.upstreamTimeout.inSeconds)
                        : OpenAIError.upstreamUnreachable(String(describing: error))
    }

    /// The 429 for a refusal, with its headers, logged as one line.
    private func limitedResponse(_ refusal: GatewayRefusal, client: ClientKey, estimate: TokenEstimate?) -> Response {
        let (error, headers) = limitedAnswer(refusal, client: client, estimate: estimate)
        return error.response(headers: headers)
    }

    /// A refusal's error and fields (the rate-limit fields, `retry-after`, `x-should-retry`
    /// when no retry in time can pass), logged as one line: the same for both paths.
    func limitedAnswer(_ refusal: GatewayRefusal, client: ClientKey, estimate: TokenEstimate?) -> (OpenAIError, HTTPFields) {
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
        return (OpenAIError(status: .tooManyRequests, type: what, code: "rate_limit_exceeded", message: message), headers)
    }

    /// openai-python stops retrying past 2 minutes; a longer Retry-After is said to be one.
    static let longestClientWait: Double = 120
}
