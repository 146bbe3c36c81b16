import Logging
import Prometheus
import SharedStore
import Synchronization
import TokenBucket

/// Every call the gateway makes into the TokenBucket library, in one place: keyed request and
/// token buckets, admission with FIFO waiting, give-back and reconciliation, live changes, and
/// the read-outs behind the rate-limit headers and the dashboard.
///
/// Each dimension (``GatewayDimension``) is a `KeyedBuckets<String>`; so memory stays bounded
/// under floods of new keys by the library's lossless eviction of full, idle keys. A request is
/// admitted dimension by dimension (requests, then tokens, input, output), each waiting FIFO on
/// its key within what is left of `maxWait`; a dimension that refuses gives back what the
/// earlier ones took, so a refused request costs nothing.
///
/// With a shared store (`config.store`, `serve --store redis://…`) the same limits live in
/// Redis instead, shared by every replica: see `GatewayLimits+Store.swift`. The local buckets
/// are then unused, and the path without a store is unchanged.
public final class GatewayLimits: Sendable {
    struct Settings: Sendable {
        var keying: GatewayKeying
        /// Resolved base level (every bucket set).
        var base: LimitSpec
        /// Resolved base of hierarchical parents.
        var parent: LimitSpec
        var keyOverrides: [String: LimitSpec]
        var tenantOverrides: [String: LimitSpec]

        /// The resolved limits of the bucket set `bucket` under the current keying.
        func spec(bucket: String) -> LimitSpec {
            switch keying {
            case .perKey, .hierarchical: return (keyOverrides[bucket] ?? LimitSpec()).over(base)
            case .perTenant: return (tenantOverrides[bucket] ?? LimitSpec()).over(base)
            case .shared: return base
            }
        }

        func parentSpec(tenant: String) -> LimitSpec { (tenantOverrides[tenant] ?? LimitSpec()).over(parent) }

        /// Specs resolved so far (the base, overrides, parents: a handful), so admission does
        /// not rebuild configurations for every request; started afresh past 64 (live edits
        /// make new specs).
        var memo: [LimitSpec: ResolvedLimits] = [:]

        /// `spec` resolved into bucket configurations (memoized; nil if it does not resolve,
        /// which validated settings never hold).
        mutating func resolved(_ spec: LimitSpec) -> ResolvedLimits? {
            if let r = memo[spec] { return r }
            guard let r = ResolvedLimits(spec) else { return nil }
            if memo.count >= 64 { memo.removeAll(keepingCapacity: true) }
            memo[spec] = r
            return r
        }
    }

    let buckets: DimensionBuckets
    let settings: Mutex<Settings>
    /// The shared store, when configured: admission, reconciliation and read-outs go there.
    let store: GatewayStore?
    /// The shortest wait allowed, whatever `maxWait` says (see ``admit(_:estimate:maxWait:)``).
    static let clockSlack: Duration = .milliseconds(1)

    /// Limits from a validated configuration.
    /// - Parameters:
    ///   - logger: where the shared store's outages and recoveries are logged.
    ///   - registry: where the shared store's health metrics are registered (the gateway's).
    public init(_ config: GatewayConfig, logger: Logger = Logger(label: "bucketscope.serve"),
                registry: PrometheusCollectorRegistry? = nil) throws {
        let base = try config.baseLimits()
        var keyOverrides: [String: LimitSpec] = [:]
        for k in config.keys { keyOverrides[k.name] = k.limits }
        let s = Settings(keying: config.keying, base: base, parent: config.parent.over(base),
                         keyOverrides: keyOverrides, tenantOverrides: config.tenants)
        let placeholder = try BucketConfiguration(capacity: 1, refillPerSecond: 1)
        buckets = DimensionBuckets { _ in KeyedBuckets<String>(placeholder) }
        settings = Mutex(s)
        store = config.store.map { GatewayStore(settings: $0, prefix: config.storePrefix, logger: logger, registry: registry) }
        try configureBuckets(s)
    }

    /// The current keying.
    public var keying: GatewayKeying { settings.withLock { $0.keying } }

    /// The bucket set a client uses, and its parent (hierarchical keying only).
    public func bucket(for client: ClientKey) -> (bucket: String, parent: String?) {
        Self.bucket(for: client, keying: settings.withLock { $0.keying })
    }

    static func bucket(for client: ClientKey, keying: GatewayKeying) -> (bucket: String, parent: String?) {
        switch keying {
        case .perKey: return (client.id, nil)
        case .perTenant: return (client.tenant, nil)
        case .shared: return ("shared", nil)
        case .hierarchical: return (client.id, client.tenant)
        }
    }

    // MARK: Admission

    /// Admits a request for `client` with `estimate` tokens (nil: only the request limit
    /// applies), waiting FIFO up to `maxWait`.
    /// - Throws: `CancellationError` when the caller is cancelled while waiting (what was taken
    ///   is given back).
    public func admit(_ client: ClientKey, estimate: TokenEstimate?, maxWait: Duration) async throws -> GatewayAdmission {
        if let store { return try await admitShared(store, client, estimate: estimate, maxWait: maxWait) }
        guard let (bucket, parent, _, parentDimensions, plan) = quickPlan(client, estimate: estimate) else {
            throw GatewayConfigError("the limits of \(client.id) do not resolve")   // validated settings always do
        }
        func parentFor(_ d: GatewayDimension) -> String? { parentDimensions.contains(d) ? parent : nil }
        let clock = ContinuousClock()
        let start = clock.now
        var taken: [(GatewayDimension, Double)] = []
        func giveBackTaken() {
            for (d, cost) in taken { try? buckets[d].refund(cost, for: bucket, parent: parentFor(d)) }
        }
        for (d, cost) in plan {
            var attempt = 0
            while true {
                // At least 1 ms: the library reads the clock for the deadline before it takes
                // the bucket's lock, so a thread descheduled in between finds the bucket's time
                // ahead of its deadline and is refused with "retry after 0 ms" though the bucket
                // has room. Such a refusal (a wait within the slack) is retried, twice at most.
                let left = Swift.max(GatewayLimits.clockSlack, maxWait - (clock.now - start))
                do {
                    try await buckets[d].acquire(cost, for: bucket, parent: parentFor(d), timeout: left)
                    taken.append((d, cost))
                    break
                } catch BucketError.deadlineExceeded(let after, _) where after <= GatewayLimits.clockSlack && attempt < 2 {
                    attempt += 1
                } catch BucketError.deadlineExceeded(let after, _) {
                    giveBackTaken()
                    return .limited(GatewayRefusal(dimension: d, bucket: bucket, retryAfter: after, neverFits: false, cost: cost))
                } catch BucketError.costExceedsCapacity(let c, let capacity) {
                    giveBackTaken()
                    return .limited(GatewayRefusal(dimension: d, bucket: bucket, retryAfter: nil, neverFits: true, cost: c,
                                                   capacity: capacity))
                } catch {
                    giveBackTaken()
                    throw error
                }
            }
        }
        return .admitted(GatewayTicket(bucket: bucket, parent: parent, estimate: estimate, taken: taken,
                                       waited: clock.now - start, parentDimensions: parentDimensions))
    }

    static func dimensions(_ spec: LimitSpec) -> Set<GatewayDimension> {
        var s: Set<GatewayDimension> = [.requests]
        if spec.tokensPerMinute != nil { s.insert(.tokens) }
        if spec.inputTokensPerMinute != nil { s.insert(.inputTokens) }
        if spec.outputTokensPerMinute != nil { s.insert(.outputTokens) }
        return s
    }

    /// Gives everything a ticket took back: the request never reached the upstream.
    public func giveBack(_ ticket: GatewayTicket) {
        if let store, ticket.permit != nil { return giveBackShared(store, ticket) }
        for (d, cost) in ticket.taken {
            try? buckets[d].refund(cost, for: ticket.bucket, parent: ticket.parentDimensions.contains(d) ? ticket.parent : nil)
        }
    }

    /// Settles a ticket's token reservations with the usage the upstream reported: refunds
    /// what was over-estimated, charges (into debt if need be) what was under-estimated.
    public func reconcile(_ ticket: GatewayTicket, usage: TokenUsage) {
        var unused = GatewayLevels()
        reconcile(ticket, usage: usage, levels: &unused)
    }

    /// ``reconcile(_:usage:)``, updating `levels` (the ticket's levels at admission) with what
    /// each reconciled bucket holds afterwards, read under the same lock.
    func reconcile(_ ticket: GatewayTicket, usage: TokenUsage, levels: inout GatewayLevels) {
        if let store, ticket.permit != nil { return reconcileShared(store, ticket, usage: usage) }
        for (d, reserved) in ticket.taken {
            let actual: Double
            switch d {
            case .requests: continue
            case .tokens: actual = Double(usage.total)
            case .inputTokens: actual = Double(usage.input)
            case .outputTokens: actual = Double(usage.output)
            }
            let parent = ticket.parentDimensions.contains(d) ? ticket.parent : nil
            guard let left = try? buckets[d].settle(reserved: reserved, used: actual, for: ticket.bucket, parent: parent) else { continue }
            levels[d]?.remaining = left
        }
    }

    // MARK: Read-outs

    /// Limit, remaining and reset of each limited dimension of a bucket set, for headers.
    public func status(bucket: String) -> GatewayLevels {
        let (resolved, keying) = settings.withLock { s in (s.resolved(s.spec(bucket: bucket)), s.keying) }
        var out = GatewayLevels()
        guard let resolved else { return out }
        for d in GatewayDimension.allCases {
            guard let c = resolved.set[d] else { continue }
            let tokens: Double
            if let store {
                tokens = Swift.max(0, store.levels.level(GatewayStore.key(keying, bucket: bucket, d), c))
            } else {
                tokens = buckets[d].tokens(for: bucket)
            }
            out[d] = resolved.status(d, remaining: tokens)
        }
        return out
    }

    /// The resolved limits of a bucket set now.
    public func spec(bucket: String) -> LimitSpec { settings.withLock { $0.spec(bucket: bucket) } }

    /// Bucket sets held by the request dimension (the largest), for the bounded-memory check.
    /// With a shared store: store keys whose level this gateway holds.
    public var heldKeys: Int { store?.levels.count ?? buckets[.requests].count }

    /// Returns once every reconciliation and give-back sent to the shared store so far has
    /// been answered (at once without a store).
    public func settled() async { await store?.settled() }

    /// Whether the shared store is failing now (its failure policy in force); nil without a store.
    public var isStoreFailing: Bool? { store?.limiter.isStoreFailing }

    /// Drops full, idle bucket sets now (lossless; the library also does this on its own as
    /// new keys arrive). Returns how many the request dimension dropped.
    @discardableResult
    public func evictIdle() -> Int {
        var dropped = 0
        for d in GatewayDimension.allCases {
            let n = buckets[d].evictIdle()
            if d == .requests { dropped = n }
        }
        return dropped
    }

    // MARK: Live changes

    /// Changes limits while serving: `key` nil changes the base of every bucket set (not the
    /// hierarchical parents), else that key's set (that tenant's under per-tenant keying).
    public func update(key: String?, _ change: (inout LimitSpec) -> Void) throws {
        let s = try settings.withLock { s throws -> Settings in
            var next = s
            if let key {
                if next.keying == .perTenant {
                    change(&next.tenantOverrides[key, default: LimitSpec()])
                } else {
                    change(&next.keyOverrides[key, default: LimitSpec()])
                }
            } else {
                // Every key's (or tenant's) set; hierarchical parents keep their own limits.
                change(&next.base)
            }
            try Self.check(next)
            s = next
            return next
        }
        try configureBuckets(s)
    }

    /// Changes a tenant's limits while serving (`[tenants.NAME]`): its parent bucket set under
    /// hierarchical keying, its bucket set under per-tenant keying. Levels are kept (capped).
    public func update(tenant: String, _ change: (inout LimitSpec) -> Void) throws {
        let s = try settings.withLock { s throws -> Settings in
            var next = s
            change(&next.tenantOverrides[tenant, default: LimitSpec()])
            try Self.check(next)
            s = next
            return next
        }
        try configureBuckets(s)
    }

    /// Switches keying while serving; new bucket sets start full.
    public func setKeying(_ keying: GatewayKeying) throws {
        let s = settings.withLock { s -> Settings in s.keying = keying; return s }
        try configureBuckets(s)
    }

    /// Sizes every bucket set from a provider preset, dropping per-key changes to the dimensions
    /// the preset sets.
    public func applyPreset(_ preset: ProviderPreset) throws {
        let p = LimitSpec(preset: preset)
        try update(key: nil) { spec in
            spec = LimitSpec(capacity: p.capacity ?? spec.capacity, refill: p.refill ?? spec.refill,
                             tokensPerMinute: p.tokensPerMinute, inputTokensPerMinute: p.inputTokensPerMinute,
                             outputTokensPerMinute: p.outputTokensPerMinute)
        }
    }

    static func check(_ s: Settings) throws {
        _ = try s.base.buckets()
        _ = try s.parent.buckets()
        for (_, o) in s.keyOverrides { _ = try o.over(s.base).buckets() }
        for (_, o) in s.tenantOverrides { _ = try o.over(s.base).buckets(); _ = try o.over(s.parent).buckets() }
    }

    /// Pushes settings into the keyed buckets: defaults, parents, overrides.
    func configureBuckets(_ s: Settings) throws {
        let base = try s.base.buckets()
        let parent = try s.parent.buckets()
        let placeholder = try BucketConfiguration(capacity: 1, refillPerSecond: 1)
        for d in GatewayDimension.allCases {
            let kb = buckets[d]
            kb.setDefaultConfiguration(base[d] ?? placeholder)
            kb.setParentConfiguration(s.keying == .hierarchical ? (parent[d] ?? placeholder) : nil)
            // Overrides are keyed by bucket name: key names, or tenant names under per-tenant.
            for name in s.keyOverrides.keys { kb.setOverride(nil, for: name) }
            for name in s.tenantOverrides.keys { kb.setOverride(nil, for: name) }
            let overrides = s.keying == .perTenant ? s.tenantOverrides : (s.keying == .shared ? [:] : s.keyOverrides)
            for (name, o) in overrides {
                if let c = try o.over(s.base).buckets()[d] { kb.setOverride(c, for: name) }
            }
            if s.keying == .hierarchical {
                for (name, o) in s.tenantOverrides {
                    if let c = try o.over(s.parent).buckets()[d] { try kb.setParentOverride(c, for: name) }
                }
            }
        }
    }
}

/// What admission decided.
public enum GatewayAdmission: Sendable {
    case admitted(GatewayTicket)
    case limited(GatewayRefusal)
    /// The shared store is away and its failure policy is `closed`: answer 503.
    case unavailable(StoreOutage)
}

/// An admitted request's reservations, to give back or reconcile.
public struct GatewayTicket: Sendable {
    public var bucket: String
    public var parent: String?
    public var estimate: TokenEstimate?
    /// Cost taken per dimension, in admission order.
    public var taken: [(GatewayDimension, Double)]
    /// How long admission waited.
    public var waited: Duration
    /// Dimensions the parent level limits (taken there too).
    var parentDimensions: Set<GatewayDimension>
    /// The shared store's permit (nil on the local path).
    var permit: SharedPermit? = nil
    /// Per limit of the permit, in its order: what it limits and where.
    var sharedLimits: [SharedSlot] = []
}

/// Why a request was refused.
public struct GatewayRefusal: Sendable, Equatable {
    public var dimension: GatewayDimension
    public var bucket: String
    /// When it would have been admitted, from now; nil when it never fits.
    public var retryAfter: Duration?
    /// The cost is above the dimension's capacity: no wait admits it.
    public var neverFits: Bool
    public var cost: Double
    public var capacity: Double?

    init(dimension: GatewayDimension, bucket: String, retryAfter: Duration?, neverFits: Bool, cost: Double, capacity: Double? = nil) {
        self.dimension = dimension; self.bucket = bucket; self.retryAfter = retryAfter
        self.neverFits = neverFits; self.cost = cost; self.capacity = capacity
    }
}

/// The keyed buckets of each dimension, in fixed slots.
struct DimensionBuckets: Sendable {
    let requests: KeyedBuckets<String>
    let tokens: KeyedBuckets<String>
    let inputTokens: KeyedBuckets<String>
    let outputTokens: KeyedBuckets<String>

    init(_ make: (GatewayDimension) -> KeyedBuckets<String>) {
        requests = make(.requests); tokens = make(.tokens)
        inputTokens = make(.inputTokens); outputTokens = make(.outputTokens)
    }

    subscript(dimension: GatewayDimension) -> KeyedBuckets<String> {
        switch dimension {
        case .requests: return requests
        case .tokens: return tokens
        case .inputTokens: return inputTokens
        case .outputTokens: return outputTokens
        }
    }
}

/// A level's limits resolved into bucket configurations, with the dimensions it limits.
struct ResolvedLimits: Sendable {
    let set: BucketSet
    let dimensions: Set<GatewayDimension>

    init?(_ spec: LimitSpec) {
        guard let set = try? spec.buckets() else { return nil }
        self.set = set
        dimensions = GatewayLimits.dimensions(spec)
    }

    /// The header view of dimension `d` holding `remaining`.
    func status(_ d: GatewayDimension, remaining: Double) -> DimensionStatus? {
        guard let c = set[d] else { return nil }
        return DimensionStatus(limit: c.capacity, remaining: remaining, refillPerSecond: c.refill.perSecond)
    }
}
