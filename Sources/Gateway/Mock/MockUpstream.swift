import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TokenBucket

/// An OpenAI-compatible API that answers without a model, for offline runs and tests:
/// `POST /v1/chat/completions` and `/v1/completions` (JSON, or SSE with `stream: true` and a
/// final usage chunk when `stream_options.include_usage` is set), `/v1/responses` (JSON, or its
/// SSE events ending in `response.completed` with usage), Anthropic's `/v1/messages` (JSON, or
/// its SSE events with usage in `message_start` and `message_delta`), `/v1/embeddings` (JSON,
/// usage in `prompt_tokens`), `GET /v1/models`, `GET /healthz`.
///
/// Prompt tokens are the gateway's own estimate of the body (``TokenEstimate``); completion
/// tokens are drawn from the Azure trace fit and capped by the request's max tokens. Tests can
/// fix them with the request headers `x-mock-completion-tokens` and `x-mock-prompt-tokens`.
/// Latency is time to first token + completion ÷ speed. Its own RPM/TPM limits answer 429 with
/// `retry-after`, like a provider.
public final class MockUpstream: HTTPResponder, Sendable {
    public typealias Context = BasicRequestContext

    let configuration: MockUpstreamConfiguration
    let limiter: LLMLimiter?
    let draw: TokenDraw
    private let sequence = Atomic<Int>(0)
    /// Requests answered, by status code (for tests and the summary line).
    private let statusCounts = Mutex<[Int: Int]>([:])

    public init(_ configuration: MockUpstreamConfiguration) throws {
        self.configuration = configuration
        limiter = try configuration.limits().map { LLMLimiter($0) }
        draw = TokenDraw(profile: configuration.profile, seed: configuration.seed)
    }

    /// How many answers had each status code so far.
    public func answered() -> [Int: Int] { statusCounts.withLock { $0 } }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let response = await answer(request)
        statusCounts.withLock { $0[response.status.code, default: 0] += 1 }
        return response
    }

    private func answer(_ request: Request) async -> Response {
        let path = request.uri.path
        if request.method == .get {
            switch path {
            case "/healthz": return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
            case "/v1/models": return json(.ok, Self.models)
            default: return OpenAIError.notFound(path).response()
            }
        }
        guard request.method == .post, let route = CountedRoute(rawValue: path) else {
            return OpenAIError.notFound(path).response()
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 16 << 20)
        } catch {
            return OpenAIError.tooLarge(limit: 16 << 20).response()
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)),
              let body = object as? [String: Any] else {
            return OpenAIError.badJSON("expected a JSON object").response()
        }
        let estimate = TokenEstimate(body: body, route: route, defaultMaxTokens: 1 << 20)
        let prompt = Self.header(request, "x-mock-prompt-tokens") ?? estimate.prompt
        var completion = route == .embeddings ? 0 : Swift.min(estimate.output, draw.completionTokens())
        if let forced = Self.header(request, "x-mock-completion-tokens") { completion = forced }

        // Provider limits: OpenAI counts prompt + max_tokens at admission.
        var reservation: LLMReservation?
        if let limiter {
            do {
                let asked = try LLMRequest(promptTokens: prompt, maxOutputTokens: route == .embeddings ? 0 : Swift.max(completion, Swift.min(estimate.output, 1 << 20)))
                // Not `.zero`, and a refusal within the slack retried: the limiter's deadline is read
                // off the clock before its lock, so a zero timeout can refuse even a full bucket
                // (see GatewayLimits.admit).
                for attempt in 0... {
                    do {
                        reservation = try await limiter.acquire(asked, timeout: GatewayLimits.clockSlack)
                        break
                    } catch BucketError.deadlineExceeded(let after, _) where after <= GatewayLimits.clockSlack && attempt < 2 {
                        continue
                    }
                }
            } catch BucketError.deadlineExceeded(let wait, _) {
                return limited(after: wait)
            } catch {
                return OpenAIError(status: .tooManyRequests, type: "tokens", code: "rate_limit_exceeded",
                                   message: "Request too large for this mock's limits: \(error)").response()
            }
        }
        if let limiter, let reservation {
            _ = try? limiter.reconcile(reservation, inputTokens: prompt, outputTokens: completion)
        }

        let id = sequence.add(1, ordering: .relaxed).newValue
        let model = (body["model"] as? String) ?? "mock-1"
        let stream = (body["stream"] as? Bool) == true
        let includeUsage = ((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool) == true
        let reply = MockReply(route: route, id: id, model: model, prompt: prompt, completion: completion,
                              created: Int(Date().timeIntervalSince1970))
        // Embeddings have no stream form (the real API ignores `stream`).
        if stream && route != .embeddings {
            return sse(reply.streamEvents(includeUsage: includeUsage))
        }
        await generate(tokens: completion)
        return json(.ok, reply.json())
    }

    /// Sleeps for the time to first token plus generating `tokens` (nothing when both are 0).
    private func generate(tokens: Int) async {
        var seconds = configuration.timeToFirstToken.inSeconds
        if configuration.tokensPerSecond > 0 { seconds += Double(tokens) / configuration.tokensPerSecond }
        if seconds > 0 { try? await Task.sleep(for: .fromSeconds(seconds)) }
    }

    /// A stream of `events`: the first after the time to first token, each later one carrying
    /// text after the time its tokens take at the mock's speed.
    private func sse(_ events: [MockEvent]) -> Response {
        let configuration = self.configuration
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            if configuration.timeToFirstToken > .zero { try await Task.sleep(for: configuration.timeToFirstToken) }
            let perChunk = configuration.tokensPerSecond > 0
                ? Double(MockReply.tokensPerChunk) / configuration.tokensPerSecond : 0
            var textSent = false
            for event in events {
                if event.carriesText {
                    if perChunk > 0, textSent { try await Task.sleep(nanoseconds: UInt64(perChunk * 1e9)) }
                    textSent = true
                }
                try await writer.write(ByteBuffer(string: event.wire))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// 429 as a provider sends it: whole-second `retry-after`, `retry-after-ms`.
    private func limited(after wait: Duration) -> Response {
        let ms = Swift.max(1, Int((wait.inSeconds * 1000).rounded(.up)))
        var headers = HTTPFields()
        headers[HTTPField.Name("retry-after")!] = String((ms + 999) / 1000)
        headers[HTTPField.Name("retry-after-ms")!] = String(ms)
        return OpenAIError(status: .tooManyRequests, type: "requests", code: "rate_limit_exceeded",
                           message: "Rate limit reached for the mock upstream. Please try again in \(ms)ms.")
            .response(headers: headers)
    }

    private func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func header(_ request: Request, _ name: String) -> Int? {
        guard let field = HTTPField.Name(name), let v = request.headers[field], let n = Int(v), n >= 0 else { return nil }
        return n
    }

    static let models = #"{"object":"list","data":[{"id":"mock-1","object":"model","created":0,"owned_by":"bucketscope"}]}"#
}
