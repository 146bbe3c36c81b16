#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An object key as scanned: its raw bytes, or its decoded text when it had escapes.
struct JSONKey {
    var raw: UnsafeRawBufferPointer.SubSequence
    var decoded: String?

    func equals(_ name: String) -> Bool {
        if let decoded { return decoded == name }
        let utf8 = name.utf8
        guard raw.count == utf8.count else { return false }
        // Field names are native strings: one memcmp, not a generic element-by-element walk.
        return utf8.withContiguousStorageIfAvailable { n in
            raw.isEmpty || memcmp(raw.base.baseAddress! + raw.startIndex, n.baseAddress!, raw.count) == 0
        } ?? raw.elementsEqual(utf8)
    }
}

/// A JSON validator over bytes, counting characters of strings where asked: what
/// ``RequestScan`` and the usage reader build on (no JSON tree, no Foundation).
struct JSONByteScanner {
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
    mutating func members(_ member: (inout JSONByteScanner, JSONKey) throws -> Void) throws {
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
        guard depth < JSONByteScanner.maxDepth else { throw Invalid() }
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
        guard depth < JSONByteScanner.maxDepth, let c = peek else { throw Invalid() }
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
    mutating func keyString() throws -> JSONKey {
        let start = i + 1
        let (plain, end) = try stringEnd()
        if plain { return JSONKey(raw: bytes[start..<(end - 1)], decoded: nil) }
        return JSONKey(raw: bytes[start..<(end - 1)], decoded: try JSONByteScanner.decode(bytes[start..<(end - 1)]))
    }

    /// A string value: its character count when `counting`.
    mutating func string(counting: Bool) throws -> Int {
        let start = i + 1
        let (plain, end) = try stringEnd()
        let content = bytes[start..<(end - 1)]
        if plain { return counting ? content.count : 0 }
        let text = try JSONByteScanner.decode(content)
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
                    for k in 1...4 where JSONByteScanner.hex(bytes[i + k]) == nil { throw Invalid() }
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
