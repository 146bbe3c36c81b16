import NIOCore

/// Decodes RESP2 and RESP3 replies from bytes, with no I/O: feed it what arrived, take the
/// complete values out, and keep the rest for the next read.
///
/// ```swift
/// var bytes = ByteBuffer(string: ":1\r\n+OK\r\n$5\r\nhel")
/// try RESPParser.next(from: &bytes)   // .integer(1)
/// try RESPParser.next(from: &bytes)   // .simple("OK")
/// try RESPParser.next(from: &bytes)   // nil: the bulk string is not complete; 3 bytes kept
/// ```
public enum RESPParser {
    /// Deepest nesting accepted: deeper input is treated as corrupt rather than recursing
    /// without bound.
    public static let maximumDepth = 64
    /// Largest bulk string or aggregate length accepted (Redis' own limit is 512 MB).
    public static let maximumLength = 512 * 1024 * 1024

    /// Takes one complete value off the front of `buffer`; returns `nil`, consuming nothing,
    /// when the value is not complete yet.
    /// - Throws: ``RESPProtocolError`` for bytes that are not RESP.
    /// - Complexity: O(bytes of the value); an incomplete value is re-read from its start on
    ///   the next call.
    public static func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        var copy = buffer
        guard let value = try parse(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private static func parse(_ buffer: inout ByteBuffer, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard depth < maximumDepth else { throw .init("nesting deeper than \(maximumDepth)") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        guard let line = try readLine(&buffer) else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(line)
        case UInt8(ascii: "-"): return .error(line)
        case UInt8(ascii: ":"): return .integer(try integer(line))
        case UInt8(ascii: "("): return .bigNumber(line)
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "#"):
            switch line {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw .init("boolean \"\(line)\"")
            }
        case UInt8(ascii: ","):
            switch line {
            case "inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            case "nan": return .double(.nan)
            default:
                guard let d = Double(line) else { throw .init("double \"\(line)\"") }
                return .double(d)
            }
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let n = try integer(line)
            if n == -1, type == UInt8(ascii: "$") { return .bulk(nil) }
            guard n >= 0, n <= maximumLength else { throw .init("bulk length \(n)") }
            guard buffer.readableBytes >= Int(n) + 2, var bytes = buffer.readSlice(length: Int(n)) else { return nil }
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .init("bulk string not ended by CRLF") }
            if type == UInt8(ascii: "!") {
                return .error(String(buffer: bytes))
            }
            if type == UInt8(ascii: "=") {
                // Verbatim string: "txt:" then the text.
                bytes.moveReaderIndex(forwardBy: Swift.min(4, bytes.readableBytes))
            }
            return .bulk(bytes)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let n = try integer(line)
            if n == -1, type == UInt8(ascii: "*") { return .array(nil) }
            guard n >= 0, n <= maximumLength else { throw .init("aggregate length \(n)") }
            let count = (type == UInt8(ascii: "%") || type == UInt8(ascii: "|")) ? Int(n) * 2 : Int(n)
            var elements: [RESPValue] = []
            elements.reserveCapacity(Swift.min(count, 1024))
            for _ in 0..<count {
                guard let element = try parse(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            if type == UInt8(ascii: "|") {
                // Attributes describe the value that follows; the client has no use for them.
                return try parse(&buffer, depth: depth)
            }
            return type == UInt8(ascii: ">") ? .push(elements) : .array(elements)
        default:
            throw .init("unknown type byte \(type)")
        }
    }

    /// The text up to the next CRLF, consumed with it; `nil` when no CRLF has arrived yet.
    private static func readLine(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: 0x0D) else { return nil }
        let lf = view.index(after: cr)
        guard lf < view.endIndex else { return nil }
        guard view[lf] == 0x0A else { throw .init("CR not followed by LF") }
        let line = buffer.readString(length: cr - view.startIndex) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    private static func integer(_ line: String) throws(RESPProtocolError) -> Int64 {
        guard let i = Int64(line) else { throw .init("integer \"\(line)\"") }
        return i
    }
}

/// Bytes from the server that are not RESP: the connection can no longer be trusted and is
/// closed.
public struct RESPProtocolError: Error, CustomStringConvertible, Hashable {
    public let description: String
    init(_ what: String) { description = "invalid RESP: \(what)" }
}
