/// Client-side limits derived from a provider's documented limits, with the arithmetic shown.
///
/// ```swift
/// let preset = ProviderPreset.named("OpenAI gpt-4o Tier 1")!
/// preset.arithmetic[0]       // "requests: 500 RPM × 0.8 / 60 = 6.67/s; capacity max(1, 1 s of refill) = 6.67"
/// let limiter = LLMLimiter(preset.limits)
/// ```
///
/// ## The rule: 80 % headroom
/// Each limited dimension gets a client bucket that refills at 80 % of the provider's limit:
/// `refill = 0.8 × limit / 60` per second for a per-minute limit (`/ 86,400` for per-day),
/// held as an exact fraction (500 RPM × 0.8 / 60 is exactly 20/3 per second, 6.67/s). The
/// 20 % margin absorbs clock skew, retries and the provider's own rounding.
///
/// ## Capacity (burst) choices
/// - **Requests**: one second of refill, at least 1 request. Providers enforce per-minute
///   request limits over shorter windows (Anthropic: 60 RPM may be enforced as 1 per second;
///   Azure: over 1 s or 10 s windows), so a burst of more than a second's worth risks a 429
///   even under the per-minute total. In any 60 s window the client sends at most
///   1 s + 60 s of refill = 0.813 × limit.
/// - **Tokens** (TPM, input TPM, output TPM): one minute of headroomed budget, `0.8 × limit`.
///   A bucket must hold the largest single request (prompt + max_tokens), and the provider's
///   own bucket holds a full minute (Anthropic documents a continuously refilled bucket of the
///   per-minute size). Against a provider that instead counts a strict sliding 60 s window,
///   a full burst followed by steady use can reach 1.6 × the limit in one minute; lower the
///   capacity of ``limits`` for such a provider.
/// - **Requests per day**: `(1 − 0.8) × limit`, at least 1, so that the burst plus a day of
///   refill never exceeds the daily limit (0.2 + 0.8 = 1), even where the provider counts
///   calendar days.
///
/// ## The tutorial's examples
/// The tutorial this project grew from states the 80 % rule but its own figures do not follow
/// it: it gives 8/s for a 500 RPM limit, while 500 RPM × 0.8 / 60 = 6.67/s (8/s would be 96 %
/// of the limit). Its three named examples are included below (``tutorialExamples``) with the
/// figures the rule gives; where the tutorial's published figure for an example is not known to
/// us, ``TutorialComparison/published`` is `nil` rather than a guess.
public struct ProviderPreset: Sendable, Hashable, Identifiable {
    /// Stable, unique name: the key for ``named(_:)`` and `FleetCommand.applyPreset`.
    public let name: String
    public let provider: String
    /// The provider's limits, as documented (dated; see ``notes``).
    public let upstream: UpstreamLimits
    /// Fraction of the provider's limit the client buckets refill at (0.8).
    public let headroom: Double
    /// The derived client buckets.
    public let limits: LLMLimits
    /// One line per dimension: how refill and capacity were computed.
    public let arithmetic: [String]
    /// Where the numbers come from and what the provider counts.
    public let notes: String
    /// For the tutorial's own examples: what it published against what the rule gives.
    public let tutorial: TutorialComparison?

    public var id: String { name }

    /// Derives client buckets from `upstream` with `headroom` (see the type's documentation).
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a headroom not
    ///   in (0, 1], a limit that is not finite and > 0, or no limit at all.
    public init(name: String, provider: String, upstream: UpstreamLimits, headroom: Double = 0.8,
                notes: String = "", tutorial: TutorialComparison? = nil) throws {
        guard headroom.isFinite, headroom > 0, headroom <= 1 else {
            throw BucketError.invalidParameter(name: "headroom", value: headroom, requirement: "in (0, 1]")
        }
        var lines: [String] = []
        let h = ProviderPreset.format(headroom)
        func perMinute(_ label: String, _ unit: String, _ limit: Double?, requests: Bool) throws -> BucketConfiguration? {
            guard let limit else { return nil }
            try ProviderPreset.check(limit, name: "\(label) limit")
            let perMinute = limit * headroom
            let refill = try Rate(perMinute, per: .seconds(60))
            let capacity: Double
            let capacityText: String
            if requests {
                capacity = Swift.max(1, refill.perSecond)
                capacityText = "capacity max(1, 1 s of refill) = \(ProviderPreset.format(capacity))"
            } else {
                capacity = perMinute
                capacityText = "capacity \(ProviderPreset.format(limit)) × \(h) = \(ProviderPreset.format(capacity)) (a minute of headroomed budget)"
            }
            lines.append("\(label): \(ProviderPreset.format(limit)) \(unit) × \(h) / 60 = \(ProviderPreset.format(refill.perSecond))/s; \(capacityText)")
            return try BucketConfiguration(capacity: capacity, refill: refill)
        }
        let requests = try perMinute("requests", "RPM", upstream.requestsPerMinute, requests: true)
        let tokens = try perMinute("tokens", "TPM", upstream.tokensPerMinute, requests: false)
        let input = try perMinute("input tokens", "ITPM", upstream.inputTokensPerMinute, requests: false)
        let output = try perMinute("output tokens", "OTPM", upstream.outputTokensPerMinute, requests: false)
        var daily: BucketConfiguration?
        if let perDay = upstream.requestsPerDay {
            try ProviderPreset.check(perDay, name: "requests per day limit")
            let refill = try Rate(perDay * headroom, per: .seconds(86_400))
            let capacity = Swift.max(1, perDay - perDay * headroom)
            lines.append("requests per day: \(ProviderPreset.format(perDay))/day × \(h) = \(ProviderPreset.format(perDay * headroom))/day "
                         + "(\(ProviderPreset.format(refill.perSecond, decimals: 6))/s); capacity max(1, \(ProviderPreset.format(perDay)) × (1 − \(h))) = \(ProviderPreset.format(capacity))")
            daily = try BucketConfiguration(capacity: capacity, refill: refill)
        }
        self.name = name
        self.provider = provider
        self.upstream = upstream
        self.headroom = headroom
        self.limits = try LLMLimits(requests: requests, tokens: tokens, inputTokens: input, outputTokens: output, requestsPerDay: daily)
        self.arithmetic = lines
        self.notes = notes
        self.tutorial = tutorial
    }

    /// The preset called `name`, from ``all``.
    public static func named(_ name: String) -> ProviderPreset? { all.first { $0.name == name } }

    /// Every built-in preset: the documented provider limits, then the tutorial's examples.
    public static let all: [ProviderPreset] = documented + tutorialExamples

    /// An Azure OpenAI deployment of `tokensPerMinute` TPM: Azure grants 6 RPM per 1,000 TPM.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a TPM that is not
    ///   finite and > 0.
    public static func azure(tokensPerMinute tpm: Double) throws -> ProviderPreset {
        try ProviderPreset.check(tpm, name: "tokens per minute")
        let rpm = 6 * tpm / 1_000
        return try ProviderPreset(
            name: "Azure OpenAI \(format(tpm)) TPM", provider: "Azure OpenAI",
            upstream: UpstreamLimits(requestsPerMinute: rpm, tokensPerMinute: tpm, requestsPerSecond: rpm / 60),
            notes: "6 RPM per 1,000 TPM of deployment quota (\(format(tpm)) TPM → \(format(rpm)) RPM); RPM is checked over 1 s or 10 s windows.")
    }

    // MARK: Formatting

    static func check(_ value: Double, name: String) throws {
        guard value.isFinite, value > 0 else {
            throw BucketError.invalidParameter(name: name, value: value, requirement: value.isFinite ? "> 0" : "a finite number")
        }
    }

    /// `30000` → "30,000"; `6.666…` → "6.67"; `0.5` → "0.5".
    static func format(_ x: Double, decimals: Int = 2) -> String {
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        guard scaled < 9e15 else { return String(x) }
        let n = Int64(scaled), s = Int64(scale)
        var whole = String(n / s)
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole.removeLast(3)
        }
        grouped = whole + grouped
        var frac = String(n % s)
        frac = String(repeating: "0", count: decimals - frac.count) + frac
        while frac.last == "0" { frac.removeLast() }
        return (x < 0 ? "-" : "") + grouped + (frac.isEmpty ? "" : "." + frac)
    }
}

/// What the tutorial published for one of its examples against what the 80 % rule gives.
///
/// ```swift
/// ProviderPreset.tutorialRuleViolation.published   // "8/s for a 500 RPM limit"
/// ProviderPreset.tutorialRuleViolation.derived     // "500 RPM × 0.8 / 60 = 6.67/s"
/// ```
public struct TutorialComparison: Sendable, Hashable {
    /// The tutorial's figure, verbatim, when known to us; `nil` when it is not.
    public let published: String?
    /// The rule's figure for the same limit.
    public let derived: String
    /// What differs, or why the published figure is missing.
    public let remark: String

    public init(published: String?, derived: String, remark: String) {
        self.published = published
        self.derived = derived
        self.remark = remark
    }
}
