import Foundation
import HTTPTypes

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
    /// (appended, not replaced: this runs for every answer).
    public static func add(_ status: [GatewayDimension: DimensionStatus], to headers: inout HTTPFields) {
        if let r = status[.requests] {
            headers.append(HTTPField(name: limitRequests, value: whole(r.limit)))
            headers.append(HTTPField(name: remainingRequests, value: String(Int(r.remaining.rounded(.down)))))
            headers.append(HTTPField(name: resetRequests, value: goDuration(r.resetSeconds)))
        }
        if let t = status[.tokens] {
            headers.append(HTTPField(name: limitTokens, value: whole(t.limit)))
            headers.append(HTTPField(name: remainingTokens, value: String(Int(t.remaining.rounded(.down)))))
            headers.append(HTTPField(name: resetTokens, value: goDuration(t.resetSeconds)))
        }
        var policies = ""
        var states = ""
        for d in GatewayDimension.allCases {
            guard let s = status[d] else { continue }
            if !policies.isEmpty {
                policies += ", "
                states += ", "
            }
            policies += "\"\(d.rawValue)\";q=\(whole(s.limit));w=\(Int(s.windowSeconds.rounded(.up)))"
            if d != .requests { policies += ";bucketscope-qu=\"tokens\"" }
            states += "\"\(d.rawValue)\";r=\(Int(s.remaining.rounded(.down)));t=\(Int(s.resetSeconds.rounded(.up)))"
        }
        if !policies.isEmpty {
            headers.append(HTTPField(name: policy, value: policies))
            headers.append(HTTPField(name: state, value: states))
        }
    }

    /// Whether an upstream field is one of these (the gateway's own replace the upstream's).
    static func isRateLimitField(lowercased name: String) -> Bool {
        name.hasPrefix("x-ratelimit-") || name == "ratelimit" || name == "ratelimit-policy"
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
        let ms = Int64((Swift.max(0, seconds) * 1000).rounded(.up))
        if ms == 0 { return "0s" }
        if ms < 1000 { return "\(ms)ms" }
        let h = ms / 3_600_000
        let m = (ms / 60_000) % 60
        let s = ms % 60_000
        var secs = String(s / 1000)
        if s % 1000 != 0 {
            var frac = String(format: "%03d", Int(s % 1000))
            while frac.hasSuffix("0") { frac.removeLast() }
            secs += "." + frac
        }
        if h > 0 { return "\(h)h\(m)m\(secs)s" }
        if m > 0 { return "\(m)m\(secs)s" }
        return "\(secs)s"
    }
}
