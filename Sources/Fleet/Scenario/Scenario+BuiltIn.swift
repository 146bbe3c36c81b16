import TokenBucket

// The scenarios that ship. Each has an equivalent file in `scenarios/` (a test checks that the
// file parses to exactly this value); LLM token costs come from the Azure LLM inference trace
// 2023 (CC-BY 4.0; Patel et al., "Splitwise", ISCA 2024; Azure Public Dataset).
extension Scenario {
    public static let builtIn: [Scenario] = [noisyNeighbor, burst, llmTokens, upstream429, replicas]

    public static func named(_ name: String) -> Scenario? { builtIn.first { $0.name == name } }

    private static let s: Int64 = 1_000_000_000

    /// Four quiet users well under their limits and one noisy client keeping 100 requests in
    /// flight, per-user buckets, one upstream.
    public static let noisyNeighbor = Scenario(
        name: "noisy-neighbor",
        description: "4 quiet users at 1 req/s and a noisy client keeping 100 requests in flight; per-user buckets of 10, 2/s",
        keying: .perUser,
        limits: ClientLimits(perUser: BucketSpec(capacity: 10, refillPerSecond: 2),
                             perTenant: BucketSpec(capacity: 20, refillPerSecond: 5),
                             shared: BucketSpec(capacity: 20, refillPerSecond: 8)),
        clients: [
            ClientSpec(name: "user", group: "quiet", tenant: "acme", count: 4, arrival: .poisson(rate: 1)),
            ClientSpec(name: "noisy", group: "noisy", tenant: "noisy-corp", arrival: .closedLoop(concurrency: 100, think: 0),
                       noisy: true),
        ],
        upstream: UpstreamSpec(name: "provider", limits: ProviderLimits(requestsPerMinute: 600)))

    /// Steady users next to users that burst at 20/s for 2 s every 10 s, with a 5 s deadline.
    public static let burst = Scenario(
        name: "burst",
        description: "3 steady users at 1 req/s and 2 bursty users at 20 req/s for 2 s every 10 s (5 s deadline); buckets of 10, 2/s",
        keying: .perUser,
        limits: ClientLimits(perUser: BucketSpec(capacity: 10, refillPerSecond: 2),
                             shared: BucketSpec(capacity: 30, refillPerSecond: 10)),
        clients: [
            ClientSpec(name: "steady", group: "steady", count: 3, arrival: .poisson(rate: 1)),
            ClientSpec(name: "bursty", group: "bursty", count: 2, arrival: .onOff(rate: 20, on: 2 * s, off: 8 * s),
                       deadline: 5 * s, noisy: true),
        ],
        upstream: UpstreamSpec(name: "provider", limits: ProviderLimits(requestsPerMinute: 1200)))

    /// Conversation and code traffic with token costs; buckets count tokens and tokens bind.
    public static let llmTokens = Scenario(
        name: "llm-tokens",
        description: "6 chat users at 0.4 req/s + 2 code users at 0.1 req/s, trace-fitted token costs; per-user token buckets of 8,000, 330/s under 500 RPM / 200,000 TPM",
        keying: .perUser,
        limits: ClientLimits(perUser: BucketSpec(capacity: 8_000, refillPerSecond: 330),
                             shared: BucketSpec(capacity: 160_000, refillPerSecond: 2_640)),
        clients: [
            ClientSpec(name: "chat", group: "chat", tenant: "acme", count: 6, arrival: .poisson(rate: 0.4),
                       cost: .llm(.conversation), deadline: 60 * s),
            ClientSpec(name: "code", group: "code", tenant: "devtools", count: 2, arrival: .poisson(rate: 0.1),
                       cost: .llm(.code), deadline: 60 * s, noisy: true),
        ],
        upstream: UpstreamSpec(name: "openai-gpt-4o-mini-tier1",
                               limits: ProviderLimits(requestsPerMinute: 500, tokensPerMinute: 200_000)))

    /// Client limits set above the provider's: 429s, retries honouring Retry-After, and the
    /// tuning rule cutting refill until the 429s stop.
    public static let upstream429 = Scenario(
        name: "upstream-429",
        description: "5 users at 2 req/s with buckets of 20, 3/s over a 300 RPM provider (1 s burst cap); tuning rule on",
        keying: .perUser,
        limits: ClientLimits(perUser: BucketSpec(capacity: 20, refillPerSecond: 3)),
        clients: [
            ClientSpec(name: "user", group: "users", count: 5, arrival: .poisson(rate: 2), deadline: 30 * s),
        ],
        upstream: UpstreamSpec(name: "provider", limits: ProviderLimits(requestsPerMinute: 300, burstPerSecond: true)),
        tuning: TuningSpec(window: 5 * s, threshold: 0.01, cut: 0.2, raise: 0.05))

    /// One limit for the whole fleet (20, 10/s) enforced by 3 gateway replicas behind a key-hash
    /// balancer, under 6 users sending 12 req/s each: with local full-size buckets the fleet
    /// admits about 3 × the limit; `--replicas-buckets local-split` keeps the limit but serves
    /// the users on a crowded replica less; `shared` is exact and fair, at a store round trip.
    public static let replicas = Scenario(
        name: "replicas",
        description: "6 users at 12 req/s through 3 replicas (key-hash balancer) under one limit of 20, 10/s; local full-size buckets (--replicas-buckets local-split|shared)",
        keying: .shared,
        limits: ClientLimits(perUser: BucketSpec(capacity: 4, refillPerSecond: 2),
                             shared: BucketSpec(capacity: 20, refillPerSecond: 10)),
        clients: [
            ClientSpec(name: "user", group: "users", count: 6, arrival: .poisson(rate: 12), deadline: s),
        ],
        upstream: UpstreamSpec(name: "provider"),
        replicas: ReplicaSpec(count: 3, balancer: .keyHash, buckets: .localFull, storeRoundTrip: 1_000_000,
                              storeOpsPerSecond: 50_000))

    /// `options.scenario` as a built-in name or a TOML path, with the options' overrides applied
    /// (keying; capacity and refill of every user, tenant and shared bucket; parents keep theirs).
    public static func resolve(_ options: FleetOptions) throws -> Scenario {
        var s: Scenario
        if let b = named(options.scenario) {
            s = b
        } else if options.scenario.hasSuffix(".toml") || options.scenario.contains("/") {
            s = try load(path: options.scenario)
        } else {
            throw FleetError.invalid("unknown scenario \"\(options.scenario)\" (built-ins: \(builtIn.map(\.name).joined(separator: ", ")); or a path to a .toml file)")
        }
        if let k = options.keying { s.keying = k }
        if let b = options.replicaBuckets {
            guard s.replicas != nil else {
                throw FleetError.invalid("--replicas-buckets: scenario \"\(s.name)\" has no [replicas] table (the built-in `replicas` has)")
            }
            s.replicas?.buckets = b
        }
        let parent = s.limits.parent
        if let c = options.capacity {
            s.limits.perUser.capacity = c; s.limits.perTenant.capacity = c; s.limits.shared.capacity = c
        }
        if let r = options.refill {
            s.limits.perUser.refillPerSecond = r; s.limits.perTenant.refillPerSecond = r; s.limits.shared.refillPerSecond = r
        }
        s.limits.parent = parent
        return s
    }
}
