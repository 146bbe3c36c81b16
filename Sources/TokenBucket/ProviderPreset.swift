/// Client-side limits derived from a provider's documented limits, with the arithmetic shown.
///
/// ```swift
/// let preset = try ProviderPreset(named: "openai-gpt-4o-tier1")   // or "OpenAI gpt-4o Tier 1"
/// preset.arithmetic[0]       // "requests: 500 RPM × 0.8 / 60 = 6.67/s; capacity max(1, 1 s of refill) = 6.67"
/// let limiter = LLMLimiter(preset.limits)
/// let perUser = try preset.clientLimits(keys: 5)   // the same rule, split over 5 keys
/// ```
///
/// ## The one sizing rule
/// Everything in this project that sizes a client bucket from a provider's limits (the library,
/// the simulator, live mode, the dashboard's `p` picker, `bucketscope presets`) uses this rule,
/// through ``limits`` (one client) or ``clientLimits(keys:)`` (the budget split over `keys`
/// clients that each get their own bucket).
///
/// **Refill: 80 % headroom, split evenly.** Each limited dimension refills at
/// `0.8 × limit / 60 / keys` per second for a per-minute limit (`/ 86,400` for per-day), held as
/// an exact fraction (500 RPM × 0.8 / 60 is exactly 20/3 per second, 6.67/s). The 20 % margin
/// absorbs clock skew, retries and the provider's own rounding; the split keeps the sum of the
/// keys' refills at the 80 %.
///
/// **Capacity (burst), and why:**
/// - **Requests**: one second of (the key's) refill, at least 1 request. Providers enforce
///   per-minute request limits over shorter windows (Anthropic: 60 RPM may be enforced as
///   1 per second; Azure: over 1 s or 10 s windows), so a burst of more than a second's worth
///   risks a 429 even under the per-minute total; split over keys, all keys bursting together
///   still send one second's worth. In any 60 s window the client sends at most
///   1 s + 60 s of refill = 0.813 × limit. The floor of 1 means that with more keys than a
///   second's worth of requests, simultaneous bursts can exceed the short window: put such keys
///   under a shared parent bucket with the unsplit ``limits``.
/// - **Tokens** (TPM, input TPM, output TPM): one minute of (the key's) headroomed budget,
///   `0.8 × limit / keys`. A bucket must hold the largest single request (prompt +
///   max_tokens: a larger one fails with ``BucketError/costExceedsCapacity(cost:capacity:)``),
///   and the provider's own bucket holds a full minute (Anthropic documents a continuously
///   refilled bucket of the per-minute size). Against a provider that instead counts a strict
///   sliding 60 s window, a full burst followed by steady use can reach 1.6 × the limit in one
///   minute; lower the capacity for such a provider.
/// - **Requests per day**: `(1 − 0.8) × limit / keys`, at least 1, so that the burst plus a
///   day of refill never exceeds the daily limit (0.2 + 0.8 = 1), even where the provider
///   counts calendar days.
///
/// ## The tutorial's examples
/// The tutorial this project grew from states the 80 % rule but its own figures do not follow
/// it: it gives 8/s for a 500 RPM limit, while 500 RPM × 0.8 / 60 = 6.67/s (8/s would be 96 %
/// of the limit). Its three named examples ("OpenAI Tier 2", "Anthropic Build 1", "OpenRouter
/// Free") are the same providers and tiers as presets in the table, so they are not separate
/// entries: those presets carry a ``tutorial`` comparison (``tutorialExamples``), and
/// ``named(_:)`` accepts the tutorial's names too.
public struct ProviderPreset: Sendable, Hashable, Identifiable {
    /// Stable, unique display name.
    public let name: String
    /// Stable, unique short name for files and command lines (`openai-gpt-4o-tier1`).
    public let slug: String
    public let provider: String
    /// The provider's limits, as documented (dated; see ``notes``).
    public let upstream: UpstreamLimits
    /// Fraction of the provider's limit the client buckets refill at (0.8).
    public let headroom: Double
    /// The derived client buckets, for one client (``clientLimits(keys:)`` with 1 key).
    public let limits: LLMLimits
    /// One line per dimension: how refill and capacity were computed.
    public let arithmetic: [String]
    /// Where the numbers come from and what the provider counts.
    public let notes: String
    /// For the tutorial's own examples: what it published against what the rule gives.
    public let tutorial: TutorialComparison?
    /// Other names ``named(_:)`` accepts (the tutorial's name for the same limits).
    public let aliases: [String]

    public var id: String { slug }

    /// Derives client buckets from `upstream` with `headroom` (see the type's documentation).
    /// - Parameter slug: the short name; by default the name lowercased, with runs of other
    ///   characters than letters, digits and dots as one `-`.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a headroom not
    ///   in (0, 1], a limit that is not finite and > 0, or no limit at all.
    public init(name: String, slug: String? = nil, provider: String, upstream: UpstreamLimits, headroom: Double = 0.8,
                notes: String = "", tutorial: TutorialComparison? = nil, aliases: [String] = []) throws {
        guard headroom.isFinite, headroom > 0, headroom <= 1 else {
            throw BucketError.invalidParameter(name: "headroom", value: headroom, requirement: "in (0, 1]")
        }
        let (limits, lines) = try ProviderPreset.derive(upstream, headroom: headroom, keys: 1)
        self.name = name
        self.slug = slug ?? ProviderPreset.slugified(name)
        self.provider = provider
        self.upstream = upstream
        self.headroom = headroom
        self.limits = limits
        self.arithmetic = lines
        self.notes = notes
        self.tutorial = tutorial
        self.aliases = aliases
    }

    /// The preset called `name`: its name, its slug or an alias, case-insensitively (runs of
    /// spaces, dashes and other punctuation count as one dash).
    ///
    /// ```swift
    /// ProviderPreset.named("openai-gpt-4o-tier1")      // = ProviderPreset.named("OpenAI gpt-4o Tier 1")
    /// ```
    public static func named(_ name: String) -> ProviderPreset? {
        let key = slugified(name)
        return all.first { p in p.slug == key || slugified(p.name) == key || p.aliases.contains { slugified($0) == key } }
    }

    /// ``named(_:)`` that throws ``UnknownPreset`` (listing the slugs) instead of returning nil.
    public init(named name: String) throws {
        guard let p = ProviderPreset.named(name) else { throw UnknownPreset(name: name) }
        self = p
    }

    /// Every built-in preset, one entry per provider limit set.
    public static let all: [ProviderPreset] = documented

    /// The client buckets for `keys` clients that share this provider's limits, each with its
    /// own bucket: the same rule as ``limits``, with every refill and burst split `keys` ways
    /// (see the type's documentation for the floors of 1 request).
    ///
    /// ```swift
    /// try ProviderPreset(named: "openai-gpt-4o-tier1").clientLimits(keys: 5).requests
    /// // refill 500 × 0.8 / 60 / 5 = 1.33/s, capacity max(1, 1 s of refill) = 1.33
    /// ```
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for `keys` < 1.
    public func clientLimits(keys: Int) throws -> LLMLimits {
        try ProviderPreset.derive(upstream, headroom: headroom, keys: keys).limits
    }

    /// The arithmetic of ``clientLimits(keys:)``, one line per dimension.
    public func clientArithmetic(keys: Int) throws -> [String] {
        try ProviderPreset.derive(upstream, headroom: headroom, keys: keys).lines
    }

    /// The rule, once: client buckets for `keys` clients and the arithmetic that gives them.
    static func derive(_ upstream: UpstreamLimits, headroom: Double, keys: Int) throws -> (limits: LLMLimits, lines: [String]) {
        guard keys >= 1 else {
            throw BucketError.invalidParameter(name: "keys", value: Double(keys), requirement: ">= 1")
        }
        var lines: [String] = []
        let h = format(headroom)
        let n = Double(keys)
        let split = keys == 1 ? "" : " / \(keys)"
        func perMinute(_ label: String, _ unit: String, _ limit: Double?, requests: Bool) throws -> BucketConfiguration? {
            guard let limit else { return nil }
            try check(limit, name: "\(label) limit")
            let perMinute = limit * headroom / n
            let refill = try Rate(perMinute, per: .seconds(60))
            let capacity: Double
            let capacityText: String
            if requests {
                capacity = Swift.max(1, refill.perSecond)
                capacityText = "capacity max(1, 1 s of refill) = \(format(capacity))"
            } else {
                capacity = perMinute
                capacityText = "capacity \(format(limit)) × \(h)\(split) = \(format(capacity)) (a minute of headroomed budget)"
            }
            lines.append("\(label): \(format(limit)) \(unit) × \(h) / 60\(split) = \(format(refill.perSecond))/s; \(capacityText)")
            return try BucketConfiguration(capacity: capacity, refill: refill)
        }
        let requests = try perMinute("requests", "RPM", upstream.requestsPerMinute, requests: true)
        let tokens = try perMinute("tokens", "TPM", upstream.tokensPerMinute, requests: false)
        let input = try perMinute("input tokens", "ITPM", upstream.inputTokensPerMinute, requests: false)
        let output = try perMinute("output tokens", "OTPM", upstream.outputTokensPerMinute, requests: false)
        var daily: BucketConfiguration?
        if let perDay = upstream.requestsPerDay {
            try check(perDay, name: "requests per day limit")
            let refill = try Rate(perDay * headroom / n, per: .seconds(86_400))
            let capacity = Swift.max(1, (perDay - perDay * headroom) / n)
            lines.append("requests per day: \(format(perDay))/day × \(h)\(split) = \(format(perDay * headroom / n))/day "
                         + "(\(format(refill.perSecond, decimals: 6))/s); capacity max(1, \(format(perDay)) × (1 − \(h))\(split)) = \(format(capacity))")
            daily = try BucketConfiguration(capacity: capacity, refill: refill)
        }
        let limits = try LLMLimits(requests: requests, tokens: tokens, inputTokens: input, outputTokens: output, requestsPerDay: daily)
        return (limits, lines)
    }

    /// An Azure OpenAI deployment of `tokensPerMinute` TPM: Azure grants 6 RPM per 1,000 TPM.
    /// Named "Azure OpenAI 30,000 TPM", slug `azure-openai-30k` (for 30,000).
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for a TPM that is not
    ///   finite and > 0.
    public static func azure(tokensPerMinute tpm: Double) throws -> ProviderPreset {
        try ProviderPreset.check(tpm, name: "tokens per minute")
        let rpm = 6 * tpm / 1_000
        let thousands = tpm / 1_000
        let slug = thousands == thousands.rounded() ? "azure-openai-\(Int64(thousands))k" : "azure-openai-\(slugified(format(tpm)))"
        return try ProviderPreset(
            name: "Azure OpenAI \(format(tpm)) TPM", slug: slug, provider: "Azure OpenAI",
            upstream: UpstreamLimits(requestsPerMinute: rpm, tokensPerMinute: tpm, requestsPerSecond: rpm / 60),
            notes: "6 RPM per 1,000 TPM of deployment quota (\(format(tpm)) TPM → \(format(rpm)) RPM); RPM is checked over 1 s or 10 s windows.")
    }

    /// "OpenAI gpt-4o Tier 1" → "openai-gpt-4o-tier-1": lowercased; runs of characters other
    /// than letters, digits and dots become one dash.
    static func slugified(_ name: String) -> String {
        var out = ""
        for ch in name.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "." { out.append(ch) } else if !out.isEmpty, !out.hasSuffix("-") { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out
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

/// No built-in preset has this name, slug or alias.
public struct UnknownPreset: Error, Equatable, CustomStringConvertible {
    public let name: String
    public var description: String {
        "no preset named \"\(name)\" (presets: \(ProviderPreset.all.map(\.slug).joined(separator: ", ")))"
    }
}
