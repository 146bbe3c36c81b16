import Foundation
import NIOCore

/// Passes a server-sent-event stream through event by event, reading the token usage on the
/// way: the final chunk of a chat/completions stream with `stream_options.include_usage`, the
/// `response.completed` event of a responses stream, or Anthropic's `message_start` (input) and
/// `message_delta` (output) events. When the gateway asked the upstream
/// for that usage chunk and the client did not, the chunk (no choices, only usage) is dropped.
///
/// Bytes are held only until their event is complete (a blank line), so each event reaches the
/// client as soon as the upstream finishes sending it.
struct SSEUsageFilter {
    /// Drop the usage-only chunk: the client did not ask for it.
    let dropUsageChunk: Bool
    private(set) var usage: TokenUsage?
    private var pending: [UInt8] = []

    init(dropUsageChunk: Bool) { self.dropUsageChunk = dropUsageChunk }

    private static let usageKey = Array("\"usage\"".utf8)

    /// Takes bytes from the upstream; returns what to send to the client now.
    mutating func feed(_ buffer: ByteBuffer) -> ByteBuffer? {
        pending.append(contentsOf: buffer.readableBytesView)
        guard let end = SSEUsageFilter.lastEventEnd(pending) else { return nil }
        let complete = pending[..<end]
        // Fast path: nothing in these events mentions usage.
        if SSEUsageFilter.find(SSEUsageFilter.usageKey, in: complete) == nil {
            let out = ByteBuffer(bytes: complete)
            pending.removeSubrange(..<end)
            return out
        }
        var out: [UInt8] = []
        out.reserveCapacity(end)
        var start = 0
        while start < end {
            let eventEnd = SSEUsageFilter.nextEventEnd(pending, from: start, limit: end)
            let event = pending[start..<eventEnd]
            if keep(event) { out.append(contentsOf: event) }
            start = eventEnd
        }
        pending.removeSubrange(..<end)
        return out.isEmpty ? nil : ByteBuffer(bytes: out)
    }

    /// What is left at the end of the stream (an unterminated last event), to send as is.
    mutating func finish() -> ByteBuffer? {
        defer { pending = [] }
        if !pending.isEmpty, SSEUsageFilter.find(SSEUsageFilter.usageKey, in: pending[...]) != nil {
            _ = keep(pending[...])
        }
        return pending.isEmpty ? nil : ByteBuffer(bytes: pending)
    }

    /// Reads usage from one event; false when it is the usage-only chunk to drop.
    private mutating func keep(_ event: ArraySlice<UInt8>) -> Bool {
        guard SSEUsageFilter.find(SSEUsageFilter.usageKey, in: event) != nil else { return true }
        var data: [UInt8] = []
        for line in event.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var l = line
            if l.last == UInt8(ascii: "\r") { l = l.dropLast() }
            guard l.starts(with: Array("data:".utf8)) else { continue }
            var payload = l.dropFirst(5)
            if payload.first == UInt8(ascii: " ") { payload = payload.dropFirst() }
            if !data.isEmpty { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: payload)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else { return true }
        if object["type"] as? String == "message_delta", let u = object["usage"] as? [String: Any],
           let output = TokenEstimate.integer(u["output_tokens"]) {
            // Anthropic: input tokens came with message_start; the delta carries the output so far.
            usage = TokenUsage(input: usage?.input ?? TokenEstimate.integer(u["input_tokens"]) ?? 0, output: output)
            return true
        }
        guard let found = TokenUsage(json: object) else { return true }
        usage = found
        if dropUsageChunk, let choices = object["choices"] as? [Any], choices.isEmpty { return false }
        return true
    }

    /// End (exclusive) of the last complete event in `bytes`: after its blank line.
    static func lastEventEnd(_ bytes: [UInt8]) -> Int? {
        var i = bytes.count - 1
        while i >= 1 {
            if bytes[i] == UInt8(ascii: "\n") {
                if bytes[i - 1] == UInt8(ascii: "\n") { return i + 1 }
                if i >= 2, bytes[i - 1] == UInt8(ascii: "\r"), bytes[i - 2] == UInt8(ascii: "\n") { return i + 1 }
            }
            i -= 1
        }
        return nil
    }

    /// End (exclusive) of the event starting at `from`, at most `limit`.
    static func nextEventEnd(_ bytes: [UInt8], from: Int, limit: Int) -> Int {
        var i = from + 1
        while i < limit {
            if bytes[i] == UInt8(ascii: "\n") {
                if bytes[i - 1] == UInt8(ascii: "\n") { return i + 1 }
                if i >= 2, bytes[i - 1] == UInt8(ascii: "\r"), bytes[i - 2] == UInt8(ascii: "\n"), i - 2 >= from { return i + 1 }
            }
            i += 1
        }
        return limit
    }

    static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard hay.count >= needle.count, let first = needle.first else { return nil }
        var i = hay.startIndex
        let last = hay.endIndex - needle.count
        while i <= last {
            if hay[i] == first, hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
