import TokenBucket

/// A whole simulated fleet: who sends what, how requests are keyed onto client-side buckets, and
/// the rate-limited provider behind them. A value: built in (``Scenario/builtIn``), or read from a
/// TOML file (``Scenario/load(path:)``; schema in `docs/scenario-format.md`).
///
/// ```swift
/// var s = Scenario.named("noisy-neighbor")!
/// s.keying = .shared
/// let sim = try Simulation(scenario: s, seed: 7)
/// sim.run(until: 60_000_000_000)
/// ```
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String
    public var keying: Keying
    /// Default run length for headless runs.
    public var duration: Nanoseconds
    public var limits: ClientLimits
    public var clients: [ClientSpec]
    public var upstream: UpstreamSpec
    public var tuning: TuningSpec?
    /// Requests one client-side bucket lets wait at most; once its queue is this long, a request
    /// arriving there is refused at once (counted as rejected). Bounds memory when clients send
    /// faster than the bucket refills and have no deadline.
    public var queueLimit: Int

    /// Default ``queueLimit``: 100,000 waiters per bucket (a few MB at most).
    public static let defaultQueueLimit = 100_000

    public init(name: String, description: String = "", keying: Keying = .perUser,
                duration: Nanoseconds = 60_000_000_000, limits: ClientLimits = ClientLimits(),
                clients: [ClientSpec], upstream: UpstreamSpec = UpstreamSpec(), tuning: TuningSpec? = nil,
                queueLimit: Int = Scenario.defaultQueueLimit) {
        self.name = name; self.description = description; self.keying = keying; self.duration = duration
        self.limits = limits; self.clients = clients; self.upstream = upstream; self.tuning = tuning
        self.queueLimit = queueLimit
    }

    /// Group names in order of first appearance.
    public var groupNames: [String] {
        var seen: [String] = []
        for c in clients where !seen.contains(c.group) { seen.append(c.group) }
        return seen
    }
}

/// Capacity (tokens) and refill (tokens per second) of a client-side bucket.
public struct BucketSpec: Sendable, Equatable {
    public var capacity: Double
    public var refillPerSecond: Double
    public init(capacity: Double, refillPerSecond: Double) {
        self.capacity = capacity; self.refillPerSecond = refillPerSecond
    }
    func configuration() throws -> BucketConfiguration {
        try BucketConfiguration(capacity: capacity, refillPerSecond: refillPerSecond)
    }
}

/// The client-side buckets a keying strategy creates.
public struct ClientLimits: Sendable, Equatable {
    /// Each user's bucket (per-user keying, and the child in hierarchical keying).
    public var perUser: BucketSpec
    /// Each tenant's bucket (per-tenant keying). Default: `perUser`.
    public var perTenant: BucketSpec
    /// The one bucket of shared keying. Default: `perUser`.
    public var shared: BucketSpec
    /// The parent in hierarchical keying: one per tenant, or one for everybody.
    public var parentScope: ParentScope
    /// The parent's bucket. Default: `perTenant` for a tenant parent, `shared` for a global one.
    public var parent: BucketSpec

    public enum ParentScope: String, Sendable, Equatable, CaseIterable {
        case tenant, global
    }

    public init(perUser: BucketSpec = BucketSpec(capacity: 10, refillPerSecond: 2), perTenant: BucketSpec? = nil,
                shared: BucketSpec? = nil, parentScope: ParentScope = .tenant, parent: BucketSpec? = nil) {
        self.perUser = perUser
        self.perTenant = perTenant ?? perUser
        self.shared = shared ?? perUser
        self.parentScope = parentScope
        self.parent = parent ?? (parentScope == .tenant ? self.perTenant : self.shared)
    }
}

/// One kind of client, replicated `count` times (users `<name>-1` … `<name>-<count>`; a single
/// client is named `<name>`).
public struct ClientSpec: Sendable, Equatable {
    public var name: String
    public var group: String
    /// Tenant (API key). Default: the client's own name, so tenants and users coincide.
    public var tenant: String
    public var count: Int
    public var arrival: Arrival
    public var cost: CostModel
    public var retry: RetryPolicy
    /// Give-up deadline from the first attempt's arrival; nil waits forever.
    public var deadline: Nanoseconds?
    /// Whether `setNoisy(false)` silences it.
    public var noisy: Bool

    public init(name: String, group: String, tenant: String? = nil, count: Int = 1, arrival: Arrival,
                cost: CostModel = .request, retry: RetryPolicy = .sdkDefault, deadline: Nanoseconds? = nil,
                noisy: Bool = false) {
        self.name = name; self.group = group; self.tenant = tenant ?? name; self.count = count
        self.arrival = arrival; self.cost = cost; self.retry = retry; self.deadline = deadline; self.noisy = noisy
    }
}

/// When a client sends.
public enum Arrival: Sendable, Equatable {
    /// Evenly spaced, `rate` per second (phase drawn at random per client).
    case steady(rate: Double)
    /// Poisson arrivals, `rate` per second on average.
    case poisson(rate: Double)
    /// Poisson at `rate` during `on`, silent during `off`, repeating (phase drawn per client).
    case onOff(rate: Double, on: Nanoseconds, off: Nanoseconds)
    /// Closed loop: keeps `concurrency` requests outstanding (waiting or at the upstream); the
    /// next is sent `think` after one finishes.
    case closedLoop(concurrency: Int, think: Nanoseconds)
    /// Poisson whose rate goes linearly from `from` to `to` per second over `over`, then holds.
    case ramp(from: Double, to: Double, over: Nanoseconds)
}

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

/// What a client does with a 429.
public enum RetryPolicy: Sendable, Equatable {
    /// Gives up at the first 429.
    case none
    /// Retries up to `maxRetries` times after `delay`.
    case fixed(delay: Nanoseconds, maxRetries: Int)
    /// The official OpenAI and Anthropic SDKs: up to `maxRetries` retries; retry n (from 0) waits
    /// min(base × 2^n, cap) × U[0.75, 1], or the Retry-After when the provider sends one of at most
    /// 60 s and `honourRetryAfter` is set.
    case exponential(maxRetries: Int, base: Nanoseconds, cap: Nanoseconds, honourRetryAfter: Bool)

    /// openai-python / anthropic-sdk: 2 retries, 0.5 s doubling to 8 s, honouring Retry-After.
    public static let sdkDefault = RetryPolicy.exponential(maxRetries: 2, base: 500_000_000, cap: 8_000_000_000,
                                                           honourRetryAfter: true)
}

/// The rate-limited provider: its limits (continuous refill, as the big providers enforce them)
/// and how long it takes to answer.
public struct UpstreamSpec: Sendable, Equatable {
    public var name: String
    public var limits: ProviderLimits
    /// Time to first token, drawn uniformly from this range.
    public var ttft: ClosedRange<Double>     // seconds
    /// Output speed, drawn uniformly from this range (tokens per second); only LLM costs stream.
    public var tokensPerSecond: ClosedRange<Double>

    public init(name: String = "upstream", limits: ProviderLimits = ProviderLimits(),
                ttft: ClosedRange<Double> = 0.4...0.9, tokensPerSecond: ClosedRange<Double> = 60...130) {
        self.name = name; self.limits = limits; self.ttft = ttft; self.tokensPerSecond = tokensPerSecond
    }
}

/// The tutorial's tuning rule: when the provider's 429 rate over `window` exceeds `threshold`,
/// cut every client bucket's refill by `cut`; optionally raise it by `raise` after a window
/// without any 429 (never above the configured refill).
public struct TuningSpec: Sendable, Equatable {
    public var window: Nanoseconds
    public var threshold: Double
    public var cut: Double
    public var raise: Double?
    public init(window: Nanoseconds = 10_000_000_000, threshold: Double = 0.01, cut: Double = 0.2, raise: Double? = 0.05) {
        self.window = window; self.threshold = threshold; self.cut = cut; self.raise = raise
    }
}
