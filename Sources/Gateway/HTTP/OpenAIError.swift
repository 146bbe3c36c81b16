import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered in OpenAI's shape, so every OpenAI client library shows its message:
/// `{"error": {"message": …, "type": …, "param": null, "code": …}}`.
///
/// ```swift
/// return OpenAIError(status: .unauthorized, type: "invalid_request_error", code: "invalid_api_key",
///                    message: "Missing API key …").response()
/// ```
public struct OpenAIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// OpenAI's `type`: `invalid_request_error`, `rate_limit_error`, `server_error`, …
    public var type: String
    /// OpenAI's `code`: `invalid_api_key`, `rate_limit_exceeded`, …; nil is sent as `null`.
    public var code: String?
    public var message: String

    public init(status: HTTPResponse.Status, type: String, code: String?, message: String) {
        self.status = status; self.type = type; self.code = code; self.message = message
    }

    /// The JSON body.
    public var body: String {
        let code = self.code.map { "\"\(JSONText.escape($0))\"" } ?? "null"
        return "{\"error\":{\"message\":\"\(JSONText.escape(message))\",\"type\":\"\(JSONText.escape(type))\",\"param\":null,\"code\":\(code)}}\n"
    }

    /// The response: JSON body, `content-type: application/json`, plus `headers`.
    public func response(headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    // The errors the gateway and the mock answer with.

    static let missingKey = OpenAIError(
        status: .unauthorized, type: "invalid_request_error", code: "missing_api_key",
        message: "You didn't provide an API key. Send it as `Authorization: Bearer YOUR_KEY` (or `x-api-key`).")
    static let unknownKey = OpenAIError(
        status: .unauthorized, type: "invalid_request_error", code: "invalid_api_key",
        message: "Incorrect API key provided: this gateway only serves the keys listed in its configuration.")

    static func badJSON(_ detail: String) -> OpenAIError {
        OpenAIError(status: .badRequest, type: "invalid_request_error", code: "invalid_json",
                    message: "We could not parse the JSON body of your request: \(detail)")
    }

    static func tooLarge(limit: Int) -> OpenAIError {
        OpenAIError(status: .contentTooLarge, type: "invalid_request_error", code: "request_too_large",
                    message: "The request body is larger than this gateway's limit of \(limit) bytes.")
    }

    static func wrongContentType(_ got: String?) -> OpenAIError {
        OpenAIError(status: .unsupportedMediaType, type: "invalid_request_error", code: "unsupported_content_type",
                    message: "Expected `Content-Type: application/json`, got \(got.map { "`\($0)`" } ?? "none").")
    }

    static func slowClient(seconds: Double) -> OpenAIError {
        OpenAIError(status: .requestTimeout, type: "invalid_request_error", code: "request_timeout",
                    message: "The request body did not arrive within \(JSONText.number(seconds)) s.")
    }

    static func upstreamUnreachable(_ detail: String) -> OpenAIError {
        OpenAIError(status: .badGateway, type: "server_error", code: "upstream_unreachable",
                    message: "The gateway could not reach the upstream API: \(detail)")
    }

    static func upstreamTimeout(seconds: Double) -> OpenAIError {
        OpenAIError(status: .gatewayTimeout, type: "server_error", code: "upstream_timeout",
                    message: "The upstream API did not answer within \(JSONText.number(seconds)) s.")
    }

    static func notFound(_ path: String) -> OpenAIError {
        OpenAIError(status: .notFound, type: "invalid_request_error", code: "unknown_url",
                    message: "Unknown request URL: \(path).")
    }
}

/// Small JSON text helpers for hand-written bodies (the hot path avoids an encoder).
enum JSONText {
    /// Escapes a string for the inside of a JSON string literal.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A number without a needless `.0`: `2`, `0.5`.
    static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }
}
