/// The dimensions an LLM provider limits, each enforced by its own client bucket.
///
/// ```swift
/// limiter.available(at: now)[.tokens]      // tokens per minute budget left now
/// request.cost(in: .outputTokens)          // what a request takes from the output bucket
/// ```
public enum LLMDimension: String, CaseIterable, Sendable, Hashable, Codable {
    /// Requests per minute; each request costs 1.
    case requests
    /// Input + output tokens per minute; a request costs `promptTokens + maxOutputTokens` at
    /// admission (OpenAI counts max_tokens up front), reconciled with real usage afterwards.
    case tokens
    /// Input tokens per minute (Anthropic ITPM); a request costs `promptTokens`.
    case inputTokens
    /// Output tokens per minute (Anthropic OTPM); a request costs `maxOutputTokens` at admission,
    /// reconciled with the real output afterwards.
    case outputTokens
    /// Requests per day (OpenRouter `:free`); each request costs 1.
    case requestsPerDay
}

/// One LLM call as the limiter sees it before it is made.
///
/// ```swift
/// let request = try LLMRequest(promptTokens: 1_200, maxOutputTokens: 800)   // estimate 2,000
/// ```
public struct LLMRequest: Sendable, Hashable {
    /// Tokens in the prompt (input).
    public let promptTokens: Int
    /// The `max_tokens` the call allows: what output may cost at most.
    public let maxOutputTokens: Int

    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a negative count
    ///   or an estimate of 0 tokens.
    public init(promptTokens: Int, maxOutputTokens: Int) throws {
        guard promptTokens >= 0 else {
            throw BucketError.invalidParameter(name: "promptTokens", value: Double(promptTokens), requirement: ">= 0")
        }
        guard maxOutputTokens >= 0 else {
            throw BucketError.invalidParameter(name: "maxOutputTokens", value: Double(maxOutputTokens), requirement: ">= 0")
        }
        guard promptTokens > 0 || maxOutputTokens > 0 else {
            throw BucketError.invalidParameter(name: "promptTokens + maxOutputTokens", value: 0, requirement: "> 0")
        }
        self.promptTokens = promptTokens
        self.maxOutputTokens = maxOutputTokens
    }

    /// The token estimate reserved up front: prompt + max output.
    public var estimatedTokens: Int { promptTokens + maxOutputTokens }

    /// What this request costs in `dimension` at admission (0 means it takes nothing there).
    public func cost(in dimension: LLMDimension) -> Double {
        switch dimension {
        case .requests, .requestsPerDay: return 1
        case .tokens: return Double(estimatedTokens)
        case .inputTokens: return Double(promptTokens)
        case .outputTokens: return Double(maxOutputTokens)
        }
    }
}

/// The client-side buckets of an LLM limiter: one ``BucketConfiguration`` per limited
/// dimension (`nil` = not limited). Usually derived from a provider's published limits by
/// ``ProviderPreset``; build one by hand for anything else.
///
/// ```swift
/// let limits = try LLMLimits(requests: BucketConfiguration(capacity: 6.67, refill: Rate(400, per: .seconds(60))),
///                            tokens: BucketConfiguration(capacity: 24_000, refill: Rate(24_000, per: .seconds(60))))
/// ```
public struct LLMLimits: Sendable, Hashable {
    public var requests: BucketConfiguration?
    public var tokens: BucketConfiguration?
    public var inputTokens: BucketConfiguration?
    public var outputTokens: BucketConfiguration?
    public var requestsPerDay: BucketConfiguration?

    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` when no dimension
    ///   is limited (a limiter that limits nothing is a configuration mistake).
    public init(requests: BucketConfiguration? = nil, tokens: BucketConfiguration? = nil,
                inputTokens: BucketConfiguration? = nil, outputTokens: BucketConfiguration? = nil,
                requestsPerDay: BucketConfiguration? = nil) throws {
        guard requests != nil || tokens != nil || inputTokens != nil || outputTokens != nil || requestsPerDay != nil else {
            throw BucketError.invalidParameter(name: "number of limited dimensions", value: 0, requirement: "at least 1")
        }
        self.requests = requests
        self.tokens = tokens
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.requestsPerDay = requestsPerDay
    }

    /// The configuration of `dimension`, if it is limited.
    public subscript(dimension: LLMDimension) -> BucketConfiguration? {
        switch dimension {
        case .requests: return requests
        case .tokens: return tokens
        case .inputTokens: return inputTokens
        case .outputTokens: return outputTokens
        case .requestsPerDay: return requestsPerDay
        }
    }

    /// The limited dimensions, in declaration order.
    public var dimensions: [LLMDimension] { LLMDimension.allCases.filter { self[$0] != nil } }
}
