import NIOCore
import Testing
@testable import SharedStore

@Suite("RESP encoding and decoding, byte for byte")
struct RESPParserTests {
    func parseAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var out: [RESPValue] = []
        while let v = try RESPParser.next(from: &buffer) { out.append(v) }
        #expect(buffer.readableBytes == 0, "left over: \(String(buffer: buffer))")
        return out
    }

    @Test("a command is an array of bulk strings, lengths in bytes")
    func encodesCommand() {
        var buffer = ByteBuffer()
        RESPEncoder.encode(["SET", "k", "é"], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n")
        var empty = ByteBuffer()
        RESPEncoder.encode(["GET", ""], into: &empty)
        #expect(String(buffer: empty) == "*2\r\n$3\r\nGET\r\n$0\r\n\r\n")
    }

    @Test("RESP2 types: simple, error, integer, bulk, null bulk, array, null array, nested")
    func decodesRESP2() throws {
        let values = try parseAll("+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n*-1\r\n")
        #expect(values == [
            .simple("OK"), .error("ERR bad"), .integer(-42), .bulk(ByteBuffer(string: "he\r\no")), .bulk(nil),
            .array([.integer(1), .array([.bulk(ByteBuffer(string: ""))])]), .array(nil),
        ])
    }

    @Test("RESP3 types: null, boolean, double, big number, verbatim, map, set, push, attribute, blob error")
    func decodesRESP3() throws {
        let values = try parseAll("_\r\n#t\r\n#f\r\n,1.5\r\n,inf\r\n(12345678901234567890\r\n=8\r\ntxt:abcd\r\n"
            + "%1\r\n+a\r\n:1\r\n~2\r\n:1\r\n:2\r\n>2\r\n+message\r\n+x\r\n|1\r\n+ttl\r\n:3\r\n:7\r\n!4\r\nFAIL\r\n")
        #expect(values == [
            .null, .boolean(true), .boolean(false), .double(1.5), .double(.infinity), .bigNumber("12345678901234567890"),
            .bulk(ByteBuffer(string: "abcd")), .array([.simple("a"), .integer(1)]), .array([.integer(1), .integer(2)]),
            .push([.simple("message"), .simple("x")]), .integer(7), .error("FAIL"),
        ])
    }

    @Test("every prefix of a frame is incomplete and consumes nothing; the whole frame decodes")
    func partialFrames() throws {
        let frame = "*3\r\n$3\r\nabc\r\n:17\r\n*2\r\n+x\r\n$-1\r\n"
        let bytes = Array(frame.utf8)
        for cut in 0..<bytes.count {
            var buffer = ByteBuffer(bytes: bytes[0..<cut])
            #expect(try RESPParser.next(from: &buffer) == nil, "prefix of \(cut) bytes")
            #expect(buffer.readableBytes == cut)
        }
        // Fed one byte at a time, as a slow network would.
        var buffer = ByteBuffer()
        var decoded: RESPValue?
        for byte in bytes {
            buffer.writeInteger(byte)
            if let v = try RESPParser.next(from: &buffer) { decoded = v }
        }
        #expect(decoded == .array([.bulk(ByteBuffer(string: "abc")), .integer(17), .array([.simple("x"), .bulk(nil)])]))
        #expect(buffer.readableBytes == 0)
    }

    @Test("corrupt input is an error, not a hang or a crash")
    func corruptInput() {
        for text in ["?x\r\n", ":12a\r\n", "$-5\r\n", "$3\r\nabcXY", "#x\r\n", "+OK\rX", "*-2\r\n"] {
            var buffer = ByteBuffer(string: text)
            #expect(throws: RESPProtocolError.self, "\(text.debugDescription)") { try RESPParser.next(from: &buffer) }
        }
    }

    @Test("nesting beyond the limit is refused")
    func deepNesting() {
        var buffer = ByteBuffer(string: String(repeating: "*1\r\n", count: RESPParser.maximumDepth + 1) + ":1\r\n")
        #expect(throws: RESPProtocolError.self) { try RESPParser.next(from: &buffer) }
    }

    @Test("redis:// addresses: host, port, IPv6; anything else refused with a message")
    func endpoints() throws {
        #expect(try RedisEndpoint("redis://127.0.0.1:6390") == RedisEndpoint(host: "127.0.0.1", port: 6390))
        #expect(try RedisEndpoint("redis://localhost") == RedisEndpoint(host: "localhost", port: 6379))
        #expect(try RedisEndpoint("redis://[::1]:7000/") == RedisEndpoint(host: "::1", port: 7000))
        for bad in ["127.0.0.1:6379", "redis://", "redis://h:0", "redis://h:99999", "redis://u:p@h:1", "redis://h:1/2", "rediss://h"] {
            #expect(throws: RedisAddressError.self, "\(bad)") { try RedisEndpoint(bad) }
        }
    }
}
