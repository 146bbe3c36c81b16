/// The rate-limited provider behind the fleet.
public struct UpstreamSnapshot: Sendable, Equatable {
    public var name: String
    /// Limits (nil when the provider does not enforce that dimension).
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    /// Use over the last minute, for "used / limit" gauges.
    public var requestsLastMinute: Double
    public var tokensLastMinute: Double
    public var requests: Int
    public var status429: Int
    /// 429s / requests over the recent window, 0...1.
    public var rate429: Double
    public var inFlight: Int

    public init(name: String, requestsPerMinute: Double?, tokensPerMinute: Double?, requestsLastMinute: Double,
                tokensLastMinute: Double, requests: Int, status429: Int, rate429: Double, inFlight: Int) {
        self.name = name; self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
        self.requestsLastMinute = requestsLastMinute; self.tokensLastMinute = tokensLastMinute
        self.requests = requests; self.status429 = status429; self.rate429 = rate429; self.inFlight = inFlight
    }
}
