import Foundation
import HTTPTypes
import NIOCore

/// The rate-limit response fields, on every answer (success and 429):
///
/// - OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: limit = the bucket's
///   capacity, remaining = what it holds now (rounded down), reset = time until it is full
///   again in Go duration syntax (`1s`, `6m0s`, `250ms`).
/// - The IETF draft's (draft-ietf-httpapi-ratelimit-headers-11) `RateLimit-Policy` and
///   `RateLimit` lists, one item per limited dimension: policy `q` = capacity, `w` = seconds to
///   refill from empty; state `r` = remaining, `t` = seconds until full. Token dimensions carry
///   the vendor parameter `bucketscope-qu="tokens"`, since the draft's quota units
///   (`qu`) register only requests and bytes.
/// - On 429: `retry-after` (whole seconds, rounded up), `retry-after-ms`.
public enum RateLimitHeaders {
    static let limitRequests = HTTPField.Name("x-ratelimit-limit-requests")!
    static let remainingRequests = HTTPField.Name("x-ratelimit-remaining-requests")!
    static let resetRequests = HTTPField.Name("x-ratelimit-reset-requests")!
    static let limitTokens = HTTPField.Name("x-ratelimit-limit-tokens")!
    static let remainingTokens = HTTPField.Name("x-ratelimit-remaining-tokens")!
    static let resetTokens = HTTPField.Name("x-ratelimit-reset-tokens")!
    static let policy = HTTPField.Name("RateLimit-Policy")!
    static let state = HTTPField.Name("RateLimit")!
    static let retryAfter = HTTPField.Name("retry-after")!
    static let retryAfterMs = HTTPField.Name("retry-after-ms")!
    /// Read by OpenAI's SDKs: `false` stops their retries (the request can never pass in time).
    static let shouldRetry = HTTPField.Name("x-should-retry")!

    /// Adds the status fields of `status` to `headers`, which must not hold any of them yet
    /// (appended, not replaced: this runs for every answer). The same text as ``write(_:into:)``,
    /// which it reads back.
    public static func add(_ status: GatewayLevels, to headers: inout HTTPFields) {
        var buffer = ByteBuffer()
        write(status, into: &buffer)
        for line in String(buffer: buffer).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            headers.append(HTTPField(name: name, value: String(line[line.index(colon, offsetBy: 2)...])))
        }
    }

    /// Writes the status fields of `status` as HTTP/1.1 header lines (`name: value\r\n`) into
    /// `buffer`: the event-loop path's answer head, written without a `String` per value.
    public static func write(_ status: GatewayLevels, into buffer: inout ByteBuffer) {
        if let r = status[.requests] {
            writeOpenAIFields(r, limit: "x-ratelimit-limit-requests: ", remaining: "\r\nx-ratelimit-remaining-requests: ",
                              reset: "\r\nx-ratelimit-reset-requests: ", into: &buffer)
        }
        if let t = status[.tokens] {
            writeOpenAIFields(t, limit: "x-ratelimit-limit-tokens: ", remaining: "\r\nx-ratelimit-remaining-tokens: ",
                              reset: "\r\nx-ratelimit-reset-tokens: ", into: &buffer)
        }
        guard !status.isEmpty else { return }
        buffer.writeStaticString("RateLimit-Policy: ")
        var first = true
        for d in GatewayDimension.allCases {
            guard let s = status[d] else { continue }
            if !first { buffer.writeStaticString(", ") }
            first = false
            writeItemName(d, into: &buffer)
            buffer.writeStaticString(";q=")
            writeWhole(s.limit, into: &buffer)
            buffer.writeStaticString(";w=")
            writeDecimal(Int64(s.windowSeconds.rounded(.up)), into: &buffer)
            if d != .requests { buffer.writeStaticString(";bucketscope-qu=\"tokens\"") }
        }
        buffer.writeStaticString("\r\nRateLimit: ")
        first = true
        for d in GatewayDimension.allCases {
            guard let s = status[d] else { continue }
            if !first { buffer.writeStaticString(", ") }
            first = false
            writeItemName(d, into: &buffer)
            buffer.writeStaticString(";r=")
            writeDecimal(Int64(s.remaining.rounded(.down)), into: &buffer)
            buffer.writeStaticString(";t=")
            writeDecimal(Int64(s.resetSeconds.rounded(.up)), into: &buffer)
        }
        buffer.writeStaticString("\r\n")
    }

    /// OpenAI's three fields of one dimension: limit, remaining (rounded down), reset.
    private static func writeOpenAIFields(_ s: DimensionStatus, limit: StaticString, remaining: StaticString,
                                          reset: StaticString, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(limit)
        writeWhole(s.limit, into: &buffer)
        buffer.writeStaticString(remaining)
        writeDecimal(Int64(s.remaining.rounded(.down)), into: &buffer)
        buffer.writeStaticString(reset)
        writeGoDuration(s.resetSeconds, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// A dimension's name as a quoted item of the IETF lists.
    private static func writeItemName(_ d: GatewayDimension, into buffer: inout ByteBuffer) {
        switch d {
        case .requests: buffer.writeStaticString("\"requests\"")
        case .tokens: buffer.writeStaticString("\"tokens\"")
        case .inputTokens: buffer.writeStaticString("\"input-tokens\"")
        case .outputTokens: buffer.writeStaticString("\"output-tokens\"")
        }
    }

    /// A whole number in decimal, written digit by digit straight into the buffer (no `String`).
    static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        var v = value.magnitude
        var n = 1
        while v >= 10 { v /= 10; n += 1 }
        let length = n + (value < 0 ? 1 : 0)
        v = value.magnitude
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            if value < 0 { out[0] = UInt8(ascii: "-") }
            var i = length
            repeat {
                i -= 1
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            return length
        }
    }

    /// ``whole(_:)`` into a buffer.
    static func writeWhole(_ x: Double, into buffer: inout ByteBuffer) {
        if x == x.rounded() && abs(x) < 9e18 { writeDecimal(Int64(x), into: &buffer) } else { buffer.writeString(whole(x)) }
    }

    /// ``goDuration(_:)`` into a buffer.
    static func writeGoDuration(_ seconds: Double, into buffer: inout ByteBuffer) {
        let ms = Int64((Swift.max(0, seconds) * 1000).rounded(.up))
        if ms == 0 {
            buffer.writeStaticString("0s")
            return
        }
        if ms < 1000 {
            writeDecimal(ms, into: &buffer)
            buffer.writeStaticString("ms")
            return
        }
        let h = ms / 3_600_000
        let m = (ms / 60_000) % 60
        let s = ms % 60_000
        if h > 0 {
            writeDecimal(h, into: &buffer)
            buffer.writeStaticString("h")
        }
        if h > 0 || m > 0 {
            writeDecimal(m, into: &buffer)
            buffer.writeStaticString("m")
        }
        writeDecimal(s / 1000, into: &buffer)
        var frac = s % 1000
        if frac != 0 {
            buffer.writeStaticString(".")
            var width = 3
            while frac % 10 == 0 { frac /= 10; width -= 1 }
            // Leading zeros of the fraction (`1.05s`).
            var scale: Int64 = 1
            for _ in 1..<width { scale *= 10 }
            while scale > frac { buffer.writeStaticString("0"); scale /= 10 }
            writeDecimal(frac, into: &buffer)
        }
        buffer.writeStaticString("s")
    }

    /// `retry-after` and `retry-after-ms` for a wait.
    public static func addRetry(after wait: Duration, to headers: inout HTTPFields) {
        let ms = Swift.max(1, Int((wait.inSeconds * 1000).rounded(.up)))
        headers[retryAfter] = String((ms + 999) / 1000)
        headers[retryAfterMs] = String(ms)
    }

    /// Capacity as a whole number when it is one, else with up to 2 decimals (`6.67`).
    static func whole(_ x: Double) -> String {
        if x == x.rounded() { return String(Int64(x)) }
        return String(format: "%.2f", x)
    }

    /// Go's `time.Duration` text, as OpenAI's reset fields use it: `0s`, `250ms`, `1s`, `1.5s`,
    /// `6m0s`, `1h2m3s`; rounded to the millisecond.
    public static func goDuration(_ seconds: Double) -> String {
        var text = ByteBuffer()
        writeGoDuration(seconds, into: &text)
        return String(buffer: text)
    }
}
