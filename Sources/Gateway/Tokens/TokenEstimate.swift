import Foundation
import NIOCore

/// What a request may cost, estimated before it is sent: the reservation taken at admission.
///
/// The approximation (documented in `docs/serve.md`): OpenAI's rule of thumb of **one token per
/// 4 characters** of English text, over every string the model reads — `messages[].content`
/// (strings or text parts), `prompt`, `input`, `instructions`, `system`, tool definitions —
/// rounded up, plus **4 tokens per message** for the chat template's framing. Output is the
/// request's `max_completion_tokens`, `max_tokens` or `max_output_tokens`, else the configured
/// default. Embeddings produce no output tokens.
///
/// ```swift
/// let e = TokenEstimate(body: ["messages": [["role": "user", "content": "Hello there"]]],
///                       route: .chatCompletions, defaultMaxTokens: 256)
/// e.prompt    // 3 + 4 = 7
/// e.output    // 256
/// ```
public struct TokenEstimate: Sendable, Equatable {
    public var prompt: Int
    public var output: Int
    public var total: Int { prompt + output }

    public init(prompt: Int, output: Int) { self.prompt = prompt; self.output = output }

    /// Characters per token in the approximation.
    public static let charactersPerToken = 4
    /// Tokens added per chat message for its framing.
    public static let tokensPerMessage = 4

    public init(body: [String: Any], route: CountedRoute, defaultMaxTokens: Int) {
        var characters = 0
        var messages = 0
        for field in ["prompt", "input", "instructions", "system", "tools", "functions"] {
            if let v = body[field] { characters += TokenEstimate.characters(in: v) }
        }
        if let list = body["messages"] as? [Any] {
            messages = list.count
            for m in list { characters += TokenEstimate.characters(in: m) }
        }
        let prompt = (characters + TokenEstimate.charactersPerToken - 1) / TokenEstimate.charactersPerToken
            + messages * TokenEstimate.tokensPerMessage
        self.prompt = Swift.max(1, prompt)
        if route == .embeddings {
            output = 0
        } else {
            let asked = ["max_completion_tokens", "max_tokens", "max_output_tokens"].lazy
                .compactMap { TokenEstimate.integer(body[$0]) }.first
            output = Swift.max(0, asked ?? defaultMaxTokens)
        }
    }

    /// Characters of text in a JSON value: strings count, keys of objects do not (except
    /// inside tool definitions, which are counted through their string values).
    static func characters(in value: Any) -> Int {
        switch value {
        case let s as String: return s.count
        case let a as [Any]: return a.reduce(0) { $0 + characters(in: $1) }
        case let d as [String: Any]:
            // A message's role or a part's type is framing, covered by tokensPerMessage.
            return d.reduce(0) { sum, kv in
                kv.key == "role" || kv.key == "type" ? sum : sum + characters(in: kv.value)
            }
        default: return 0
        }
    }

    static func integer(_ value: Any?) -> Int? {
        if let i = value as? Int { return integer(Double(i)) }
        if let x = value as? Double { return integer(x) }
        return nil
    }

    /// ``integer(_:)`` of a number the byte scan read (no boxing into `Any`).
    static func integer(_ d: Double) -> Int? {
        guard d.isFinite, d >= 0, d < 1e9 else { return nil }
        return Int(d.rounded(.up))
    }
}

/// Real token counts from a response's `usage`, in either naming: chat/completions
/// (`prompt_tokens`, `completion_tokens`) or responses (`input_tokens`, `output_tokens`).
public struct TokenUsage: Sendable, Equatable {
    public var input: Int
    public var output: Int
    public var total: Int { input + output }

    public init(input: Int, output: Int) { self.input = input; self.output = output }

    /// The usage object's counts; nil when it has neither naming.
    public init?(usage: [String: Any]) {
        if let p = TokenEstimate.integer(usage["prompt_tokens"]) {
            input = p
            output = TokenEstimate.integer(usage["completion_tokens"]) ?? 0
        } else if let i = TokenEstimate.integer(usage["input_tokens"]) {
            input = i
            output = TokenEstimate.integer(usage["output_tokens"]) ?? 0
        } else {
            return nil
        }
    }

    /// The `usage` of a whole JSON response body, parsing only the `usage` object (the body can
    /// be large; the usage is a few fields). Falls back to the whole body when the object is not
    /// found that way. nil when there is none.
    public init?<Bytes: Collection>(responseBody bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        let key = Array("\"usage\"".utf8)
        var i = bytes.startIndex
        while i + key.count <= bytes.endIndex {
            if bytes[i] == key[0], bytes[i..<(i + key.count)].elementsEqual(key) {
                var j = i + key.count
                while j < bytes.endIndex, bytes[j] == UInt8(ascii: ":") || bytes[j] == UInt8(ascii: " ") { j += 1 }
                if j < bytes.endIndex, bytes[j] == UInt8(ascii: "{"), let end = TokenUsage.closingBrace(bytes, from: j),
                   let object = TokenUsage.usageObject(bytes[j...end]) {
                    self = object
                    return
                }
            }
            i += 1
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let usage = TokenUsage(json: object) else { return nil }
        self = usage
    }

    /// ``init(responseBody:)`` on a buffer's bytes in place (the gateway's path for every
    /// answer): the same scan for the `usage` object, without a generic collection walk or a
    /// copy; the same fallback when it is not found that way.
    init?(responseBody body: ByteBuffer) {
        let found: TokenUsage? = body.withUnsafeReadableBytes { bytes in
            let key = TokenUsage.usageKey
            var i = 0
            while i + key.count <= bytes.count {
                guard bytes[i] == UInt8(ascii: "\""),
                      memcmp(bytes.baseAddress! + i, key.withUnsafeBytes { $0.baseAddress! }, key.count) == 0 else {
                    i += 1
                    continue
                }
                var j = i + key.count
                while j < bytes.count, bytes[j] == UInt8(ascii: ":") || bytes[j] == UInt8(ascii: " ") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "{"), let end = TokenUsage.closingBrace(bytes, from: j),
                   let usage = RequestScan.usage(in: UnsafeRawBufferPointer(rebasing: bytes[j...end])) {
                    return usage
                }
                i += 1
            }
            return nil
        }
        if let found { self = found; return }
        guard let usage = TokenUsage(responseBody: body.readableBytesView) else { return nil }
        self = usage
    }

    static let usageKey = Array("\"usage\"".utf8)

    /// The `}` matching the `{` at `from` (usage objects hold numbers and nested detail objects,
    /// no strings with braces).
    private static func closingBrace<Bytes: Collection>(_ bytes: Bytes, from: Int) -> Int? where Bytes.Element == UInt8, Bytes.Index == Int {
        var depth = 0
        var k = from
        while k < bytes.endIndex {
            if bytes[k] == UInt8(ascii: "{") { depth += 1 }
            if bytes[k] == UInt8(ascii: "}") { depth -= 1; if depth == 0 { return k } }
            k += 1
        }
        return nil
    }

    /// Reads a `{...}` usage slice (a byte scan, no JSON tree).
    private static func usageObject<S: Collection>(_ slice: S) -> TokenUsage? where S.Element == UInt8 {
        Array(slice).withUnsafeBytes { RequestScan.usage(in: $0) }
    }

    /// The `usage` of a whole JSON response (or of the `response` object inside a responses-API
    /// stream event); nil when there is none.
    public init?(json: [String: Any]) {
        if let m = json["message"] as? [String: Any], let u = m["usage"] as? [String: Any],
           let usage = TokenUsage(usage: u) {
            self = usage   // Anthropic's message_start event
        } else if let u = json["usage"] as? [String: Any], let usage = TokenUsage(usage: u) {
            self = usage
        } else if let r = json["response"] as? [String: Any], let u = r["usage"] as? [String: Any],
                  let usage = TokenUsage(usage: u) {
            self = usage
        } else {
            return nil
        }
    }
}

/// The routes whose tokens are counted; other `/v1/` paths only pass the request limit.
public enum CountedRoute: String, Sendable, CaseIterable {
    case chatCompletions = "/v1/chat/completions"
    case completions = "/v1/completions"
    case embeddings = "/v1/embeddings"
    case responses = "/v1/responses"
    /// Anthropic's Messages API (`max_tokens`; usage as `input_tokens` / `output_tokens`).
    case messages = "/v1/messages"
}
