import TokenBucket

// What the replicas show: one ``ReplicaSnapshot``, the same for a dashboard frame and a report.
extension FleetCore {
    /// The replicas at `now` (nil without replicas). `elapsed`: the time the limit and the
    /// rates count over (default: time so far).
    func replicaSnapshot(over elapsed: Nanoseconds? = nil) -> ReplicaSnapshot? {
        guard let rs = replicaState else { return nil }
        let spec = rs.spec
        let seconds = Double(elapsed ?? now) / 1e9
        let replicas = (0..<spec.count).map { i in
            ReplicaSnapshot.Replica(number: i + 1, routed: rs.routed[i], admitted: rs.admitted[i], refused: rs.refused[i],
                                    clockOffsetMs: Double(rs.clockOffset[i]) / 1e6)
        }
        let admittedTokens = Double(rs.admittedUnits) / Double(TokenUnits.perToken)
        let limit = globalLimit(over: seconds)
        var fairness: [ReplicaSnapshot.Fairness] = []
        for (g, record) in metrics.groups.enumerated() {
            let counts = clients.indices.filter { Int(clients[$0].group) == g }.map { rs.clientAdmitted[$0] }
            guard !counts.isEmpty else { continue }
            fairness.append(ReplicaSnapshot.Fairness(group: record.name, clients: counts.count, minAdmitted: counts.min()!,
                                                     maxAdmitted: counts.max()!, jain: ReplicaSnapshot.jainIndex(counts)))
        }
        let shared = spec.buckets == .shared
        return ReplicaSnapshot(
            balancer: spec.balancer.rawValue, buckets: spec.buckets.rawValue, storeClock: spec.storeClock.rawValue,
            replicas: replicas, admitted: rs.admitted.reduce(0, +), admittedTokens: admittedTokens,
            globalLimitTokens: limit, overAdmission: limit > 0 ? admittedTokens / limit : 0, fairness: fairness,
            storeOps: rs.storeOps, storeOpsPerSecond: seconds > 0 ? Double(rs.storeOps) / seconds : 0,
            storeCapacityPerSecond: shared ? spec.storeOpsPerSecond : 0,
            storeOpsRecentPerSecond: rs.storeOpsWindow.sum(at: now) / Swift.min(10, Swift.max(seconds, 1e-9)),
            storeRoundTripMs: shared ? Double(spec.storeRoundTrip) / 1e6 : 0,
            addedLatencyMs: rs.addedLatency.percentiles().honest, storeQueueMaxMs: Double(rs.storeQueueMax) / 1e6)
    }

    /// What the limit allows the whole fleet over `seconds`, tokens: capacity + refill × time
    /// of each top-level bucket of one replica's keys (parents when the keying has them), at
    /// full size (a split bucket × N).
    func globalLimit(over seconds: Double) -> Double {
        let copies = replicaState?.localCopies ?? 1
        let perCopy = copies > 1 ? Int(table.keysPerReplica) : table.keys.count
        let scale = replicaState?.spec.buckets == .localSplit ? Double(copies) : 1
        let keys = table.keys.prefix(perCopy)
        let top = keys.contains(where: \.isParent) ? keys.filter(\.isParent) : Array(keys)
        return top.reduce(0) { total, k in
            let c = k.bucket.configuration
            return total + (c.capacity + c.refill.perSecond * seconds) * scale
        }
    }
}
