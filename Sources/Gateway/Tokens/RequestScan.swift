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
    private var fieldCharacters: [Int] = Array(repeating: 0, count: RequestScan.countedFields.count)
    private var messageCharacters = 0
    private(set) var messages = 0
    /// `max_completion_tokens`, `max_tokens`, `max_output_tokens` as numbers, when they are.
    private var maxTokens: [Double?] = [nil, nil, nil]
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
        var s = Scanner(bytes: bytes)
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
        let characters = fieldCharacters.reduce(0, +) + messageCharacters
        let prompt = (characters + TokenEstimate.charactersPerToken - 1) / TokenEstimate.charactersPerToken
            + messages * TokenEstimate.tokensPerMessage
        let output: Int
        if route == .embeddings {
            output = 0
        } else {
            let asked = maxTokens.lazy.compactMap { n in n.flatMap { TokenEstimate.integer($0) } }.first
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

    private static func index(of key: Key, in names: [String]) -> Int? {
        names.firstIndex { key.equals($0) }
    }
}

/// An object key as scanned: its raw bytes, or its decoded text when it had escapes.
struct Key {
    var raw: UnsafeRawBufferPointer.SubSequence
    var decoded: String?

    func equals(_ name: String) -> Bool {
        if let decoded { return decoded == name }
        return raw.elementsEqual(name.utf8)
    }
}

/// A JSON validator over bytes, counting characters of strings where asked.
private struct Scanner {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    static let maxDepth = 512

    struct Invalid: Error {}

    var atEnd: Bool { i >= bytes.count }
    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    /// `word` at the cursor, followed by a delimiter: consumed and true; else nothing moves.
    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
        if i + n < bytes.count {
            switch bytes[i + n] {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): break
            default: return false
            }
        }
        i += n
        return true
    }

    /// An object's members after its `{`, through its `}`: `member` reads each value.
    mutating func members(_ member: (inout Scanner, Key) throws -> Void) throws {
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw Invalid() }
            let key = try keyString()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw Invalid() }
            i += 1
            skipSpace()
            try member(&self, key)
            skipSpace()
            guard let c = peek else { throw Invalid() }
            i += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw Invalid() }
        }
    }

    /// An array at the cursor: its element count and the characters in it.
    mutating func array(depth: Int) throws -> (count: Int, characters: Int) {
        guard depth < Scanner.maxDepth else { throw Invalid() }
        i += 1   // [
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return (0, 0) }
        var count = 0
        var characters = 0
        while true {
            skipSpace()
            characters += try value(counting: true, depth: depth + 1)
            count += 1
            skipSpace()
            guard let c = peek else { throw Invalid() }
            i += 1
            if c == UInt8(ascii: "]") { return (count, characters) }
            guard c == UInt8(ascii: ",") else { throw Invalid() }
        }
    }

    /// One value at the cursor; with `counting`, the characters of its strings (object values
    /// under `role` and `type` excepted: framing, not text).
    @discardableResult
    mutating func value(counting: Bool, depth: Int) throws -> Int {
        guard depth < Scanner.maxDepth, let c = peek else { throw Invalid() }
        switch c {
        case UInt8(ascii: "\""):
            return try string(counting: counting)
        case UInt8(ascii: "{"):
            i += 1
            var characters = 0
            try members { s, key in
                let text = counting && !key.equals("role") && !key.equals("type")
                characters += try s.value(counting: text, depth: depth + 1)
            }
            return characters
        case UInt8(ascii: "["):
            let (_, characters) = try array(depth: depth)
            return counting ? characters : 0
        case UInt8(ascii: "t"):
            guard literal("true") else { throw Invalid() }
        case UInt8(ascii: "f"):
            guard literal("false") else { throw Invalid() }
        case UInt8(ascii: "n"):
            guard literal("null") else { throw Invalid() }
        default:
            _ = try numberText()
        }
        return 0
    }

    /// A number's value when the cursor is at one (consumed); nil, after skipping whatever
    /// value is there, when it is not.
    mutating func number() throws -> Double? {
        guard let c = peek, c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else {
            try value(counting: false, depth: 1)
            return nil
        }
        let range = try numberText()
        return Double(String(decoding: bytes[range], as: UTF8.self))
    }

    /// JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func numberText() throws -> Range<Int> {
        let start = i
        func digits() -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        if peek == UInt8(ascii: "-") { i += 1 }
        if peek == UInt8(ascii: "0") { i += 1 } else { guard digits() > 0 else { throw Invalid() } }
        if peek == UInt8(ascii: ".") { i += 1; guard digits() > 0 else { throw Invalid() } }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw Invalid() }
        }
        return start..<i
    }

    /// A key: raw bytes when plain, decoded when it has escapes.
    mutating func keyString() throws -> Key {
        let start = i + 1
        let (plain, end) = try stringEnd()
        if plain { return Key(raw: bytes[start..<(end - 1)], decoded: nil) }
        return Key(raw: bytes[start..<(end - 1)], decoded: try Scanner.decode(bytes[start..<(end - 1)]))
    }

    /// A string value: its character count when `counting`.
    mutating func string(counting: Bool) throws -> Int {
        let start = i + 1
        let (plain, end) = try stringEnd()
        let content = bytes[start..<(end - 1)]
        if plain { return counting ? content.count : 0 }
        let text = try Scanner.decode(content)
        return counting ? text.count : 0
    }

    /// Moves past a string at the cursor (at its `"`); `plain` when it is ASCII without escapes.
    mutating func stringEnd() throws -> (plain: Bool, end: Int) {
        i += 1
        var plain = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return (plain, i)
            }
            if c < 0x20 { throw Invalid() }
            if c == UInt8(ascii: "\\") {
                plain = false
                i += 1
                guard i < bytes.count else { throw Invalid() }
                switch bytes[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    guard i + 4 < bytes.count else { throw Invalid() }
                    for k in 1...4 where Scanner.hex(bytes[i + k]) == nil { throw Invalid() }
                    i += 5
                default:
                    throw Invalid()
                }
                continue
            }
            if c >= 0x80 { plain = false }
            i += 1
        }
        throw Invalid()
    }

    static func hex(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    /// The text of a string's content (between its quotes), escapes resolved; invalid UTF-8 or
    /// a lone surrogate is invalid JSON here.
    static func decode(_ content: UnsafeRawBufferPointer.SubSequence) throws -> String {
        var scalars = String.UnicodeScalarView()
        var k = content.startIndex
        let end = content.endIndex
        var run = k   // start of the raw (unescaped) run
        func flush(_ upTo: Int) throws {
            guard run < upTo else { return }
            guard let s = String(validating: content[run..<upTo], as: UTF8.self) else { throw Invalid() }
            scalars.append(contentsOf: s.unicodeScalars)
        }
        while k < end {
            guard content[k] == UInt8(ascii: "\\") else { k += 1; continue }
            try flush(k)
            let e = content[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var unit = try hex4(content, k)
                k += 4
                if (0xD800..<0xDC00).contains(unit) {
                    guard k + 6 <= end, content[k] == UInt8(ascii: "\\"), content[k + 1] == UInt8(ascii: "u") else { throw Invalid() }
                    let low = try hex4(content, k + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw Invalid() }
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                }
                guard let scalar = Unicode.Scalar(unit) else { throw Invalid() }
                scalars.append(scalar)
            default:
                scalars.append(Unicode.Scalar(e))   // \" \\ \/
            }
            run = k
        }
        try flush(end)
        return String(scalars)
    }

    private static func hex4(_ content: UnsafeRawBufferPointer.SubSequence, _ at: Int) throws -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = hex(content[at + k]) else { throw Invalid() }
            v = v << 4 | d
        }
        return v
    }
}

extension RequestScan {
    static let usageFields = ["prompt_tokens", "completion_tokens", "input_tokens", "output_tokens"]

    /// The counts of a `usage` object (`{…}` alone), read as ``TokenUsage/init(usage:)`` reads
    /// the parsed object: top-level numbers only, nested detail objects skipped. nil when it
    /// is not a valid object or has neither naming.
    static func usage(in bytes: UnsafeRawBufferPointer) -> TokenUsage? {
        var s = Scanner(bytes: bytes)
        s.skipSpace()
        guard s.peek == UInt8(ascii: "{") else { return nil }
        s.i += 1
        var values: [Double?] = [nil, nil, nil, nil]
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
