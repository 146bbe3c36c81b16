import TokenBucket

extension GatewayLimits {
    /// Multiplies the request refill of every bucket set by `ratio`, at once: the base level,
    /// the hierarchical parents, and each per-key or per-tenant override that sets its own
    /// refill (the others inherit the base). The tuning rule's move (``RefillTuner``): it scales
    /// by new factor ÷ old factor, so edits made meanwhile are scaled too.
    ///
    /// Capacities and token limits stay: the rule slows the request rate; fewer requests also
    /// send fewer tokens.
    /// - Throws: `BucketError` when a refill would leave the library's range (nothing changes).
    public func scaleRequestRefill(by ratio: Double) throws {
        let s = try settings.withLock { s throws -> Settings in
            var next = s
            func scale(_ spec: inout LimitSpec) {
                if let r = spec.refill { spec.refill = r * ratio }
            }
            scale(&next.base)
            scale(&next.parent)
            for name in next.keyOverrides.keys { scale(&next.keyOverrides[name]!) }
            for name in next.tenantOverrides.keys { scale(&next.tenantOverrides[name]!) }
            try Self.check(next)
            s = next
            return next
        }
        try configureBuckets(s)
    }
}
