import TokenBucket

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
