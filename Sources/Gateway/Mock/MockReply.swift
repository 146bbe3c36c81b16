/// The bodies the mock upstream sends for one request, in OpenAI's shapes.
struct MockReply {
    var route: CountedRoute
    var id: Int
    var model: String
    var prompt: Int
    var completion: Int
    var created: Int

    /// Streamed content goes out in chunks of this many tokens (one word per token).
    static let tokensPerChunk = 8

    private var usage: String {
        "{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion),\"total_tokens\":\(prompt + completion)}"
    }

    private var quotedModel: String { "\"\(JSONText.escape(model))\"" }

    /// `completion` words of filler text.
    static func text(tokens: Int) -> String {
        let words = ["token", "bucket", "rate", "limit", "refill", "burst", "queue", "fair"]
        var out = ""
        out.reserveCapacity(tokens * 7)
        for i in 0..<tokens {
            if i > 0 { out += " " }
            out += words[i % words.count]
        }
        return out
    }

    /// The non-streaming response.
    func json() -> String {
        let text = JSONText.escape(MockReply.text(tokens: completion))
        switch route {
        case .chatCompletions:
            return "{\"id\":\"chatcmpl-mock-\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":\(quotedModel),"
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\(text)\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":\(usage)}"
        case .completions:
            return "{\"id\":\"cmpl-mock-\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(quotedModel),"
                + "\"choices\":[{\"index\":0,\"text\":\"\(text)\",\"finish_reason\":\"stop\"}],\"usage\":\(usage)}"
        case .embeddings:
            // A small deterministic vector: the mock is about limits, not semantics.
            let vector = (0..<8).map { i in String(Double((id &* 31 &+ i * 7) % 100) / 100) }.joined(separator: ",")
            return "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[\(vector)]}],"
                + "\"model\":\(quotedModel),\"usage\":{\"prompt_tokens\":\(prompt),\"total_tokens\":\(prompt)}}"
        case .messages:
            return "{\"id\":\"msg_mock_\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\(quotedModel),"
                + "\"content\":[{\"type\":\"text\",\"text\":\"\(text)\"}],\"stop_reason\":\"end_turn\","
                + "\"usage\":{\"input_tokens\":\(prompt),\"output_tokens\":\(completion)}}"
        case .responses:
            return "{\"id\":\"resp_mock_\(id)\",\"object\":\"response\",\"created_at\":\(created),\"status\":\"completed\",\"model\":\(quotedModel),"
                + "\"output\":[{\"type\":\"message\",\"id\":\"msg_mock_\(id)\",\"status\":\"completed\",\"role\":\"assistant\","
                + "\"content\":[{\"type\":\"output_text\",\"text\":\"\(text)\",\"annotations\":[]}]}],"
                + "\"usage\":{\"input_tokens\":\(prompt),\"output_tokens\":\(completion),\"total_tokens\":\(prompt + completion)}}"
        }
    }

    /// The `data:` payloads of a stream, without the usage chunk and `[DONE]`.
    func streamChunks() -> [String] {
        var chunks: [String] = []
        var sent = 0
        let head: String
        switch route {
        case .completions:
            head = "{\"id\":\"cmpl-mock-\(id)\",\"object\":\"text_completion\",\"created\":\(created),\"model\":\(quotedModel),"
        default:
            head = "{\"id\":\"chatcmpl-mock-\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(quotedModel),"
            chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}")
        }
        let words = MockReply.text(tokens: completion).split(separator: " ")
        while sent < completion {
            let n = Swift.min(MockReply.tokensPerChunk, completion - sent)
            var piece = words[sent..<(sent + n)].joined(separator: " ")
            if sent > 0 { piece = " " + piece }
            sent += n
            let text = JSONText.escape(piece)
            if route == .completions {
                chunks.append(head + "\"choices\":[{\"index\":0,\"text\":\"\(text)\",\"finish_reason\":null}]}")
            } else {
                chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\(text)\"},\"finish_reason\":null}]}")
            }
        }
        if route == .completions {
            chunks.append(head + "\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"stop\"}]}")
        } else {
            chunks.append(head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}")
        }
        return chunks
    }

    /// The final chunk OpenAI sends with `stream_options.include_usage`: no choices, the usage.
    func usageChunk() -> String {
        let object = route == .completions ? "text_completion" : "chat.completion.chunk"
        let prefix = route == .completions ? "cmpl-mock-" : "chatcmpl-mock-"
        return "{\"id\":\"\(prefix)\(id)\",\"object\":\"\(object)\",\"created\":\(created),\"model\":\(quotedModel),\"choices\":[],\"usage\":\(usage)}"
    }
}
