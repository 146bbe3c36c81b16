import TokenBucket

/// The limits of one bucket set (a key's, a tenant's, the shared one): a request bucket, and
/// optionally token buckets per minute. Fields left nil inherit from the level below
/// (flags over per-key/tenant sections over `[limits]` over a preset over the built-in defaults).
public struct LimitSpec: Sendable, Hashable {
    /// Request bucket burst, in requests.
    public var capacity: Double?
    /// Request bucket refill, in requests per second.
    public var refill: Double?
    /// Tokens (input + output) per minute: a bucket holding one minute's worth.
    public var tokensPerMinute: Double?
    /// Input tokens per minute.
    public var inputTokensPerMinute: Double?
    /// Output tokens per minute.
    public var outputTokensPerMinute: Double?

    public init(capacity: Double? = nil, refill: Double? = nil, tokensPerMinute: Double? = nil,
                inputTokensPerMinute: Double? = nil, outputTokensPerMinute: Double? = nil) {
        self.capacity = capacity; self.refill = refill; self.tokensPerMinute = tokensPerMinute
        self.inputTokensPerMinute = inputTokensPerMinute; self.outputTokensPerMinute = outputTokensPerMinute
    }

    /// The built-in defaults: 10 requests of burst refilled at 2 per second, 60,000 tokens per
    /// minute (input and output not limited separately).
    public static let builtIn = LimitSpec(capacity: 10, refill: 2, tokensPerMinute: 60_000)

    /// This spec with every nil field taken from `base`.
    public func over(_ base: LimitSpec) -> LimitSpec {
        LimitSpec(capacity: capacity ?? base.capacity, refill: refill ?? base.refill,
                  tokensPerMinute: tokensPerMinute ?? base.tokensPerMinute,
                  inputTokensPerMinute: inputTokensPerMinute ?? base.inputTokensPerMinute,
                  outputTokensPerMinute: outputTokensPerMinute ?? base.outputTokensPerMinute)
    }

    /// A provider preset's client buckets as a spec: the request bucket as derived (80 % of the
    /// RPM, one second of burst), token dimensions as their per-minute refill (80 % of the limit).
    public init(preset: ProviderPreset) {
        let l = preset.limits
        capacity = l.requests?.capacity
        refill = l.requests?.refill.perSecond
        tokensPerMinute = l.tokens.map { $0.refill.perSecond * 60 }
        inputTokensPerMinute = l.inputTokens.map { $0.refill.perSecond * 60 }
        outputTokensPerMinute = l.outputTokens.map { $0.refill.perSecond * 60 }
    }

    /// The bucket configurations, one per limited dimension.
    /// - Throws: `BucketError` for a value out of range.
    public func buckets() throws -> BucketSet {
        func minute(_ limit: Double?) throws -> BucketConfiguration? {
            guard let limit else { return nil }
            return try BucketConfiguration(capacity: limit, refill: Rate(limit, per: .seconds(60)))
        }
        let c = capacity ?? LimitSpec.builtIn.capacity!
        let r = refill ?? LimitSpec.builtIn.refill!
        return BucketSet(requests: try BucketConfiguration(capacity: c, refillPerSecond: r),
                         tokens: try minute(tokensPerMinute), inputTokens: try minute(inputTokensPerMinute),
                         outputTokens: try minute(outputTokensPerMinute))
    }
}

/// Resolved bucket configurations of one level; nil dimensions are not limited.
public struct BucketSet: Sendable, Equatable {
    public var requests: BucketConfiguration
    public var tokens: BucketConfiguration?
    public var inputTokens: BucketConfiguration?
    public var outputTokens: BucketConfiguration?

    subscript(dimension: GatewayDimension) -> BucketConfiguration? {
        switch dimension {
        case .requests: return requests
        case .tokens: return tokens
        case .inputTokens: return inputTokens
        case .outputTokens: return outputTokens
        }
    }
}

/// What the gateway limits; each has its own keyed buckets.
public enum GatewayDimension: String, CaseIterable, Sendable {
    case requests
    case tokens
    case inputTokens = "input-tokens"
    case outputTokens = "output-tokens"
}

/// How requests map to buckets.
public enum GatewayKeying: String, CaseIterable, Sendable {
    /// One bucket set per API key.
    case perKey = "per-key"
    /// One per tenant (from the config's key → tenant; an unlisted key is its own tenant).
    case perTenant = "per-tenant"
    /// One for everyone.
    case shared
    /// Per key, under its tenant's bucket set: admitted only when both admit.
    case hierarchical

    /// Also accepts the dashboard's `per-user` for per-key.
    public init?(name: String) {
        if name == "per-user" { self = .perKey } else { self.init(rawValue: name) }
    }
}
