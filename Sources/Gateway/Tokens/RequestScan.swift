/// What the gateway needs from a request body, read in one pass over its bytes without
/// building a JSON tree: whether it is well-formed JSON with an object at the top, the token
/// estimate (the same figures as ``TokenEstimate/init(body:route:defaultMaxTokens:)`` gives
/// for the parsed body), `stream`, and where `stream_options.include_usage` is or would go.
///
/// Duplicate keys count as their last occurrence, as a parsed dictionary would have them.
/// Strings count Swift characters (grapheme clusters) of their unescaped text; a string of
/// plain ASCII without escapes is counted by its length without decoding it.
struct RequestScan {
    /// Characters in each counted top-level field (last occurrence wins).
    private var fieldCharacters = InlineArray<6, Int>(repeating: 0)   // one per countedFields
    private var messageCharacters = 0
    private(set) var messages = 0
    /// `max_completion_tokens`, `max_tokens`, `max_output_tokens` as numbers, when they are.
    private var maxTokens = InlineArray<3, Double?>(repeating: nil)   // one per maxTokenFields
    /// `"stream": true`.
    private(set) var stream = false
    /// Byte offset just after the top-level `{`.
    private(set) var objectBody = 0
    /// The last `stream_options` value: its byte range and, when an object, just after its `{`
    /// and whether it has members.
    private(set) var streamOptions: (range: Range<Int>, objectBody: Int?, empty: Bool)?
    /// The last `include_usage` inside that object: its value's range and whether it is `true`.
    private(set) var includeUsage: (range: Range<Int>, isTrue: Bool)?

    static let countedFields = ["prompt", "input", "instructions", "system", "tools", "functions"]
    static let maxTokenFields = ["max_completion_tokens", "max_tokens", "max_output_tokens"]

    enum Failure: Error, Equatable {
        /// Not valid JSON.
        case invalid
        /// Valid JSON, but not an object at the top.
        case notAnObject
    }

    /// Scans `bytes` (a whole request body).
    init(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var s = JSONByteScanner(bytes: bytes)
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else {
            // Tell "valid but not an object" from "not JSON".
            do { try s.value(counting: false, depth: 0); s.skipSpace() } catch { throw .invalid }
            guard s.atEnd else { throw .invalid }
            throw .notAnObject
        }
        s.i += 1
        objectBody = s.i
        do {
            try s.members { s, key in
                if let f = Self.index(of: key, in: Self.countedFields) {
                    fieldCharacters[f] = try s.value(counting: true, depth: 1)
                } else if key.equals("messages") {
                    if s.peek == UInt8(ascii: "[") {
                        (messages, messageCharacters) = try s.array(depth: 1)
                    } else {
                        try s.value(counting: false, depth: 1)
                        (messages, messageCharacters) = (0, 0)
                    }
                } else if let f = Self.index(of: key, in: Self.maxTokenFields) {
                    maxTokens[f] = try s.number()
                } else if key.equals("stream") {
                    stream = s.literal("true")
                    if !stream { try s.value(counting: false, depth: 1) }
                } else if key.equals("stream_options") {
                    let start = s.i
                    if s.peek == UInt8(ascii: "{") {
                        s.i += 1
                        let body = s.i
                        var found: (range: Range<Int>, isTrue: Bool)?
                        var count = 0
                        try s.members { s, key in
                            count += 1
                            guard key.equals("include_usage") else { try s.value(counting: false, depth: 2); return }
                            let vstart = s.i
                            let isTrue = s.literal("true")
                            if !isTrue { try s.value(counting: false, depth: 2) }
                            found = (vstart..<s.i, isTrue)
                        }
                        streamOptions = (start..<s.i, body, count == 0)
                        includeUsage = found
                    } else {
                        try s.value(counting: false, depth: 1)
                        streamOptions = (start..<s.i, nil, false)
                        includeUsage = nil
                    }
                } else {
                    try s.value(counting: false, depth: 1)
                }
            }
            s.skipSpace()
            guard s.atEnd else { throw Failure.invalid }
        } catch {
            throw .invalid
        }
    }

    /// The estimate for `route`, as ``TokenEstimate/init(body:route:defaultMaxTokens:)``.
    func estimate(route: CountedRoute, defaultMaxTokens: Int) -> TokenEstimate {
        var characters = messageCharacters
        for i in fieldCharacters.indices { characters += fieldCharacters[i] }
        let prompt = (characters + TokenEstimate.charactersPerToken - 1) / TokenEstimate.charactersPerToken
            + messages * TokenEstimate.tokensPerMessage
        let output: Int
        if route == .embeddings {
            output = 0
        } else {
            var asked: Int?
            for i in maxTokens.indices where asked == nil { asked = maxTokens[i].flatMap { TokenEstimate.integer($0) } }
            output = Swift.max(0, asked ?? defaultMaxTokens)
        }
        return TokenEstimate(prompt: Swift.max(1, prompt), output: output)
    }

    /// The body with `stream_options.include_usage` set to `true` (the other fields untouched).
    func askingForUsage(_ body: UnsafeRawBufferPointer) -> [UInt8] {
        let field = Array("\"include_usage\":true".utf8)
        func splice(_ at: Range<Int>, _ insert: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(body.count + insert.count)
            out.append(contentsOf: body[0..<at.lowerBound])
            out.append(contentsOf: insert)
            out.append(contentsOf: body[at.upperBound..<body.count])
            return out
        }
        guard let options = streamOptions else {
            // The top object has members (`stream` at least): the inserted one takes a comma.
            return splice(objectBody..<objectBody, Array("\"stream_options\":{".utf8) + field + Array("},".utf8))
        }
        guard let inner = options.objectBody else {
            return splice(options.range, Array("{".utf8) + field + Array("}".utf8))
        }
        if let usage = includeUsage { return splice(usage.range, Array("true".utf8)) }
        return splice(inner..<inner, options.empty ? field : field + [UInt8(ascii: ",")])
    }

    private static func index(of key: JSONKey, in names: [String]) -> Int? {
        names.firstIndex { key.equals($0) }
    }
}

extension RequestScan {
    static let usageFields = ["prompt_tokens", "completion_tokens", "input_tokens", "output_tokens"]

    /// The counts of a `usage` object (`{…}` alone), read as ``TokenUsage/init(usage:)`` reads
    /// the parsed object: top-level numbers only, nested detail objects skipped. nil when it
    /// is not a valid object or has neither naming.
    static func usage(in bytes: UnsafeRawBufferPointer) -> TokenUsage? {
        var s = JSONByteScanner(bytes: bytes)
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else { return nil }
        s.i += 1
        var values = InlineArray<4, Double?>(repeating: nil)   // one per usageFields
        do {
            try s.members { s, key in
                if let k = index(of: key, in: usageFields) { values[k] = try s.number() } else { try s.value(counting: false, depth: 1) }
            }
            s.skipSpace()
            guard s.atEnd else { return nil }
        } catch {
            return nil
        }
        func count(_ v: Double?) -> Int? { v.flatMap { TokenEstimate.integer($0) } }
        if let p = count(values[0]) { return TokenUsage(input: p, output: count(values[1]) ?? 0) }
        if let i = count(values[2]) { return TokenUsage(input: i, output: count(values[3]) ?? 0) }
        return nil
    }
}
