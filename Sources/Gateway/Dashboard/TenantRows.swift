import Fleet
import TokenBucket

/// The dashboard's tenant rows under hierarchical keying. A key's requests pass its own bucket
/// set and its tenant's (``GatewayLimits/bucket(for:)``); the tenant's bucket is a row of its
/// own, `tenant:NAME`, with the tenant's keys folded under it, as the simulator shows
/// `tenant:acme` above its users. Under the other keyings no key has a parent, and the tree
/// folds keys by group instead.
enum TenantRows {
    static let prefix = "tenant:"

    /// The row of `tenant`'s bucket (the simulator's name for a tenant parent).
    static func row(tenant: String) -> String { prefix + tenant }

    /// The tenant whose bucket `row` names, if it names one.
    static func tenant(ofRow row: String) -> String? {
        row.hasPrefix(prefix) ? String(row.dropFirst(prefix.count)) : nil
    }

    /// The parent row of a dashboard row under `keying`, from the group ``GatewayMetrics``
    /// files the row under: a listed key's group is its tenant; an unlisted key (group
    /// `unlisted`) is its own tenant, as ``ClientKey`` makes it; `(other)` sums keys of many
    /// tenants, so it has no one parent.
    static func parent(ofRow row: String, group: String, keying: GatewayKeying) -> String? {
        guard row != GatewayMetrics.other else { return nil }
        let unlisted = group == "unlisted"
        let client = ClientKey(id: row, tenant: unlisted ? row : group, known: !unlisted)
        return GatewayLimits.bucket(for: client, keying: keying).parent.map(Self.row(tenant:))
    }
}

extension GatewayLimits {
    /// The request bucket of `tenant`'s hierarchical parent now: its capacity, refill and
    /// tokens (the level this gateway last read from the shared store, with `--store`); nil
    /// when its limits do not resolve.
    func parentRequestStatus(tenant: String) -> DimensionStatus? {
        guard let c = settings.withLock({ s in s.resolved(s.parentSpec(tenant: tenant)) })?.set[.requests] else { return nil }
        let tokens: Double
        if let store {
            tokens = Swift.max(0, store.levels.level(GatewayStore.parentKey(tenant, .requests), c))
        } else {
            tokens = buckets[.requests].parentTokens(for: tenant) ?? c.capacity
        }
        return DimensionStatus(limit: c.capacity, remaining: tokens, refillPerSecond: c.refill.perSecond)
    }
}
