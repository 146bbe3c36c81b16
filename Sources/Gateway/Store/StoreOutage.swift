import HTTPTypes
import Hummingbird

/// The answer while the shared store does not answer and the policy is `closed`: 503 in
/// OpenAI's error shape with `retry-after: 1` (the store is usually back within seconds, and
/// OpenAI's SDKs retry a 503).
public struct StoreOutage: Sendable, Equatable {
    public var error: OpenAIError {
        OpenAIError(status: .serviceUnavailable, type: "server_error", code: "rate_limit_store_unavailable",
                    message: "The shared rate-limit store is not answering, and this gateway refuses requests until it does "
                        + "(on-store-failure closed). Please retry shortly.")
    }

    public func response() -> Response {
        error.response(headers: [RateLimitHeaders.retryAfter: "1"])
    }
}
