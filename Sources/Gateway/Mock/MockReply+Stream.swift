/// One server-sent event of a mock stream.
struct MockEvent: Equatable {
    /// The `event:` line (the responses and Anthropic APIs name their events; chat does not).
    var name: String?
    /// The `data:` payload.
    var data: String
    /// It carries generated text: the stream paces these at the mock's speed.
    var carriesText = false

    /// The event as sent: `event: NAME` (if named), `data: …`, a blank line.
    var wire: String { (name.map { "event: \($0)\n" } ?? "") + "data: \(data)\n\n" }
}

// The stream forms of each route, as the real APIs send them.
extension MockReply {
    /// Every event of the streamed answer, in order.
    /// - Parameter includeUsage: chat/completions only: the final usage chunk
    ///   (`stream_options.include_usage`). The responses API always reports usage in
    ///   `response.completed`, Anthropic's in `message_start` and `message_delta`.
    func streamEvents(includeUsage: Bool) -> [MockEvent] {
        switch route {
        case .chatCompletions, .completions, .embeddings:
            var events = streamChunks().enumerated().map { i, c in MockEvent(name: nil, data: c, carriesText: i > 0) }
            if includeUsage { events.append(MockEvent(name: nil, data: usageChunk())) }
            events.append(MockEvent(name: nil, data: "[DONE]"))
            return events
        case .responses: return responseEvents()
        case .messages: return messageEvents()
        }
    }

    /// The completion text in chunks of ``tokensPerChunk`` words, each after the first with its
    /// leading space.
    var textPieces: [String] {
        let words = MockReply.text(tokens: completion).split(separator: " ")
        return stride(from: 0, to: words.count, by: MockReply.tokensPerChunk).map { start in
            let piece = words[start..<Swift.min(words.count, start + MockReply.tokensPerChunk)].joined(separator: " ")
            return start == 0 ? piece : " " + piece
        }
    }

    /// The responses API's stream: `response.created`, `response.in_progress`, the output item
    /// and content part opening, `response.output_text.delta` per piece, their closing, and
    /// `response.completed` carrying the whole response with its `usage`. No `[DONE]`.
    func responseEvents() -> [MockEvent] {
        let item = "msg_mock_\(id)"
        let text = JSONText.escape(MockReply.text(tokens: completion))
        var seq = 0
        var events: [MockEvent] = []
        func add(_ type: String, _ fields: String, text carries: Bool = false) {
            events.append(MockEvent(name: type, data: "{\"type\":\"\(type)\",\"sequence_number\":\(seq),\(fields)}", carriesText: carries))
            seq += 1
        }
        let opening = "\"id\":\"resp_mock_\(id)\",\"object\":\"response\",\"created_at\":\(created),\"status\":\"in_progress\","
            + "\"model\":\"\(JSONText.escape(model))\",\"output\":[],\"usage\":null"
        add("response.created", "\"response\":{\(opening)}")
        add("response.in_progress", "\"response\":{\(opening)}")
        add("response.output_item.added", "\"output_index\":0,\"item\":{\"id\":\"\(item)\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}")
        let at = "\"item_id\":\"\(item)\",\"output_index\":0,\"content_index\":0"
        add("response.content_part.added", "\(at),\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}")
        for piece in textPieces {
            add("response.output_text.delta", "\(at),\"delta\":\"\(JSONText.escape(piece))\"", text: true)
        }
        add("response.output_text.done", "\(at),\"text\":\"\(text)\"")
        add("response.content_part.done", "\(at),\"part\":{\"type\":\"output_text\",\"text\":\"\(text)\",\"annotations\":[]}")
        add("response.output_item.done", "\"output_index\":0,\"item\":{\"id\":\"\(item)\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\","
            + "\"content\":[{\"type\":\"output_text\",\"text\":\"\(text)\",\"annotations\":[]}]}")
        add("response.completed", "\"response\":\(json())")
        return events
    }

    /// Anthropic's Messages stream: `message_start` (with the input tokens), a text content
    /// block of `content_block_delta` pieces, `message_delta` (stop reason and output tokens),
    /// `message_stop`.
    func messageEvents() -> [MockEvent] {
        var events: [MockEvent] = []
        func add(_ type: String, _ fields: String, text carries: Bool = false) {
            events.append(MockEvent(name: type, data: "{\"type\":\"\(type)\"" + (fields.isEmpty ? "" : ",\(fields)") + "}", carriesText: carries))
        }
        add("message_start", "\"message\":{\"id\":\"msg_mock_\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"\(JSONText.escape(model))\","
            + "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":\(prompt),\"output_tokens\":1}}")
        add("content_block_start", "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}")
        add("ping", "")
        for piece in textPieces {
            add("content_block_delta", "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\(JSONText.escape(piece))\"}", text: true)
        }
        add("content_block_stop", "\"index\":0")
        add("message_delta", "\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":\(completion)}")
        add("message_stop", "")
        return events
    }
}
