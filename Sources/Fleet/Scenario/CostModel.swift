import TokenBucket

/// What one request costs at the client bucket and at the provider's token limits.
public enum CostModel: Sendable, Equatable {
    /// 1 token per request (request-count limiting).
    case request
    /// A fixed number of tokens per request.
    case fixed(Double)
    /// Prompt and completion tokens drawn from lognormal fits of a real trace; the client bucket
    /// is charged prompt + completion.
    case llm(LLMProfile)
}

/// Lognormal fits (of ln tokens) of the Azure LLM inference trace 2023 (CC-BY 4.0; Patel et al.,
/// "Splitwise", ISCA 2024; Azure Public Dataset).
public struct LLMProfile: Sendable, Equatable {
    public var name: String
    public var promptMu: Double, promptSigma: Double
    public var completionMu: Double, completionSigma: Double

    public init(name: String, promptMu: Double, promptSigma: Double, completionMu: Double, completionSigma: Double) {
        self.name = name; self.promptMu = promptMu; self.promptSigma = promptSigma
        self.completionMu = completionMu; self.completionSigma = completionSigma
    }

    /// Conversation trace. The fit's prompt median is e^6.63 ≈ 757, p90 ≈ 2,690 (the trace's own:
    /// 1,020 and 2,734); completion median ≈ 151, p90 ≈ 455 (trace: 129 and 424, bimodal).
    public static let conversation = LLMProfile(name: "conversation", promptMu: 6.63, promptSigma: 0.99,
                                                completionMu: 5.02, completionSigma: 0.86)
    /// Code trace. Fit: prompt median ≈ 1,097, p90 ≈ 6,270 (trace: 1,469 and 5,188); completion
    /// median ≈ 16, p90 ≈ 48 (trace: 13 and 55).
    public static let code = LLMProfile(name: "code", promptMu: 7.00, promptSigma: 1.36,
                                        completionMu: 2.79, completionSigma: 0.85)
}
