import NIOCore

/// One reply from Redis, in the RESP2 types and the RESP3 ones a server may send instead.
///
/// The client speaks RESP2 (it never sends `HELLO 3`), but decodes every RESP3 type so a proxy
/// or a server configured for RESP3 cannot desynchronise it: maps and sets arrive as arrays of
/// their elements, attributes are skipped, pushes are delivered apart from replies.
///
/// ```swift
/// let reply: RESPValue = .array([.integer(1), .bulk(ByteBuffer(string: "ok"))])
/// reply.array?.first?.integer   // 1
/// ```
public enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simple(String)
    /// `-ERR …`: a command error (the connection stays usable).
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$n` bulk string; `nil` for the RESP2 null bulk (`$-1`).
    case bulk(ByteBuffer?)
    /// `*n` array; `nil` for the RESP2 null array (`*-1`). RESP3 maps (`%`) and sets (`~`)
    /// decode to arrays (a map as key, value, key, value, …).
    case array([RESPValue]?)
    /// RESP3 `_` null.
    case null
    /// RESP3 `,` double.
    case double(Double)
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)
    /// RESP3 `(` big number, as its decimal text.
    case bigNumber(String)
    /// RESP3 `>` push: out-of-band, never the reply to a command.
    case push([RESPValue])

    /// The value as text: simple strings, bulk strings, integers, big numbers.
    public var string: String? {
        switch self {
        case .simple(let s), .bigNumber(let s): s
        case .bulk(let b?): String(buffer: b)
        case .integer(let i): String(i)
        default: nil
        }
    }

    /// The value as an integer: integers, and bulk or simple strings holding one.
    public var integer: Int64? {
        switch self {
        case .integer(let i): i
        case .simple, .bulk, .bigNumber: string.flatMap { Int64($0) }
        default: nil
        }
    }

    /// The elements of an array (or RESP3 map, set).
    public var array: [RESPValue]? {
        if case .array(let a?) = self { return a }
        return nil
    }

    /// Whether the reply is null in either protocol version.
    public var isNull: Bool {
        switch self {
        case .null, .bulk(nil), .array(nil): true
        default: false
        }
    }
}
