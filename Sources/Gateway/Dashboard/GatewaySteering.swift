import Fleet
import TokenBucket

/// The dashboard's commands applied to a gateway's live limits: a row's edit goes to the bucket
/// set that row's requests use now (its key's; its tenant's under per-tenant keying; the one
/// shared set under shared keying), a tenant row's (hierarchical keying) to that tenant's parent
/// set (`[tenants.NAME]`), an edit without a row to every set. With the tuning rule
/// on, a refill (or a preset's) is the configured refill and the tuned one is set to it × the
/// current factor, as the simulator does.
struct GatewaySteering: Sendable {
    let limits: GatewayLimits
    let metrics: GatewayMetrics

    var tuner: RefillTuner? { metrics.tuner }

    /// Applies `command` to the limits.
    /// - Throws: a message for values out of range, unknown rows or presets, and `setNoisy`.
    func apply(_ command: FleetCommand) throws {
        switch command {
        case let .setCapacity(value, key):
            try edit(key) { $0.capacity = value }
        case let .setRefill(value, key):
            if let tuner {
                try tuner.withFactor { f in try edit(key) { $0.refill = value * f } }
            } else {
                try edit(key) { $0.refill = value }
            }
        case let .setKeying(k):
            try limits.setKeying(Self.gatewayKeying(k))
        case .setNoisy:
            throw GatewayConfigError("serve has no generated load to switch off: the traffic is real")
        case let .applyPreset(name):
            guard let preset = ProviderPreset.named(name) else {
                throw GatewayConfigError("unknown preset \"\(name)\" (see `bucketscope presets`)")
            }
            if let tuner {
                try tuner.withFactor { f in
                    try limits.applyPreset(preset)
                    if f != 1 { try limits.scaleRequestRefill(by: f) }
                }
            } else {
                try limits.applyPreset(preset)
            }
        }
    }

    /// Applies `change` to what a row's edit reaches: a tenant row's parent bucket set, else
    /// the row's bucket set (every set without a row).
    private func edit(_ row: String?, _ change: (inout LimitSpec) -> Void) throws {
        if let tenant = parentTenant(of: row) {
            try limits.update(tenant: tenant, change)
        } else {
            try limits.update(key: try bucketSet(of: row), change)
        }
    }

    /// The tenant whose parent bucket a row is (hierarchical keying's tenant rows), if it is one.
    private func parentTenant(of row: String?) -> String? {
        guard let row, limits.keying == .hierarchical, !metrics.rows().contains(where: { $0.id == row }) else { return nil }
        return TenantRows.tenant(ofRow: row)
    }

    /// What `command` changes, for the dashboard's change line: `capacity of alice → 20`.
    func summary(_ command: FleetCommand) -> String {
        func whose(_ key: String?) -> String {
            if let key, let tenant = parentTenant(of: key) { return "\(key) (\(tenant)'s parent bucket set)" }
            guard let key, let set = try? bucketSet(of: key) else { return "every \(limits.keying.rawValue) bucket set" }
            return set == key ? key : "\(set) (\(key)'s \(limits.keying.rawValue) set)"
        }
        switch command {
        case let .setCapacity(v, key): return "capacity of \(whose(key)) → \(RateLimitHeaders.whole(v))"
        case let .setRefill(v, key):
            let tuned = tuner.map { t in t.factor == 1 ? "" : " (tuned: × \(RefillTuner.short(t.factor)))" } ?? ""
            return "refill of \(whose(key)) → \(RefillTuner.short(v))/s" + tuned
        case let .setKeying(k): return "keying → \(Self.gatewayKeying(k).rawValue)"
        case .setNoisy: return "noisy clients: none in serve"
        case let .applyPreset(name): return "preset → \(name)"
        }
    }

    /// The bucket set a row's edit goes to (nil: every set).
    func bucketSet(of row: String?) throws -> String? {
        guard let row else { return nil }
        if row == GatewayMetrics.other {
            throw GatewayConfigError("\(GatewayMetrics.other) sums the keys past tracked_keys, each with a bucket set of its own: edit all keys instead")
        }
        guard let client = metrics.rows().first(where: { $0.id == row }) else {
            throw GatewayConfigError("no key \"\(row)\" has sent a request")
        }
        switch limits.keying {
        case .perKey, .hierarchical: return client.id
        case .perTenant: return client.tenant
        case .shared: return nil
        }
    }

    static func fleetKeying(_ k: GatewayKeying) -> Keying {
        switch k {
        case .perKey: return .perUser
        case .perTenant: return .perTenant
        case .shared: return .shared
        case .hierarchical: return .hierarchical
        }
    }

    static func gatewayKeying(_ k: Keying) -> GatewayKeying {
        switch k {
        case .perUser: return .perKey
        case .perTenant: return .perTenant
        case .shared: return .shared
        case .hierarchical: return .hierarchical
        }
    }
}
