import TokenBucket

// `[replicas]`: reading the table (every number checked against its ``InputLimits`` range where
// it enters) and the one resource check replicas add.
extension TableReader {
    /// The `[replicas]` table as a ``ReplicaSpec``.
    func replicas() throws -> ReplicaSpec {
        var spec = ReplicaSpec()
        spec.count = try int("count", InputLimits.replicaCount) ?? spec.count
        spec.balancer = try enumValue("balancer", ReplicaSpec.Balancer.self) ?? spec.balancer
        spec.buckets = try enumValue("buckets", ReplicaSpec.Buckets.self) ?? spec.buckets
        spec.storeRoundTrip = try duration("store_rtt", InputLimits.storeRoundTrip) ?? spec.storeRoundTrip
        spec.storeOpsPerSecond = try number("store_ops_per_s", InputLimits.storeOpsPerSecond) ?? spec.storeOpsPerSecond
        spec.clockSkew = try duration("clock_skew", InputLimits.clockSkew) ?? spec.clockSkew
        spec.storeClock = try enumValue("store_clock", ReplicaSpec.StoreClock.self) ?? spec.storeClock
        try finish()
        return spec
    }
}

extension Scenario {
    /// Buckets the keying needs in one replica (before any keying switch): what local buckets
    /// multiply by the number of replicas.
    var bucketsPerReplica: Int {
        let users = clients.reduce(0) { $0 + $1.count }
        let tenants = Set(clients.map(\.tenant)).count
        switch keying {
        case .shared: return 1
        case .perUser: return users
        case .perTenant: return tenants
        case .hierarchical: return users + (limits.parentScope == .global ? 1 : tenants)
        }
    }

    /// Checks `[replicas]` against its ranges and local buckets against
    /// ``InputLimits/replicaKeys`` (checked for the keying with the most buckets, so a switch
    /// while running cannot cross it either).
    func checkReplicas() throws(ResourceLimitError) {
        guard let r = replicas else { return }
        if let (field, message) = r.violation() { throw ResourceLimitError(client: nil, field: "[replicas] " + field, message: message) }
        guard r.buckets != .shared else { return }
        var widest = self
        widest.keying = .hierarchical
        let keys = r.count * Swift.max(widest.bucketsPerReplica, bucketsPerReplica)
        if keys > InputLimits.replicaKeys {
            throw ResourceLimitError(client: nil, field: "[replicas] count", message:
                "\(r.count) replicas with local buckets would keep \(NumberText.grouped(keys)) buckets, more than the limit of "
                + "\(NumberText.grouped(InputLimits.replicaKeys)) (lower count or the clients' count, or use buckets = \"shared\")")
        }
    }
}
