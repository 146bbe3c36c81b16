import Foundation
import TokenBucket

// What the fleet shows: the snapshot a dashboard frame reads and the report a run prints, both
// taken at the core's `now`, the same for every driver.
extension FleetCore {
    /// Waits so far of the requests waiting now, per group and per key (ns): the percentiles
    /// count them as "at least this long".
    func pendingWaits() -> (groups: [[Int64]], keys: [Int: [Int64]]) {
        var groups = Array(repeating: [Int64](), count: metrics.groups.count)
        var keys: [Int: [Int64]] = [:]
        for lk in table.keys where !lk.queue.isEmpty {
            var ages: [Int64] = []
            ages.reserveCapacity(lk.queue.count)
            for slot in lk.queue {
                let r = requests[Int(slot)]
                ages.append(now - (lk.isParent ? r.parentStart : r.arrival))
                let g = Int(clients[Int(r.client)].group)
                if g < groups.count { groups[g].append(now - r.arrival) }
            }
            keys[lk.metricsKey] = ages
        }
        return (groups, keys)
    }

    mutating func snapshot() -> FleetSnapshot {
        var groupsWaiting = Array(repeating: [Int64](), count: metrics.groups.count)
        var keys: [KeySnapshot] = []
        keys.reserveCapacity(table.keys.count)
        for k in table.keys.indices {
            catchUp(Int32(k))
            let lk = table.keys[k]
            // Waits so far of this key's waiters (and of their groups), head (oldest) first.
            var ages: [Int64]?
            if !lk.queue.isEmpty {
                ages = lk.queue.map { slot in
                    let r = requests[Int(slot)]
                    let g = Int(clients[Int(r.client)].group)
                    if g < groupsWaiting.count { groupsWaiting[g].append(now - r.arrival) }
                    return now - (lk.isParent ? r.parentStart : r.arrival)
                }
            }
            keys.append(metrics.keySnapshot(key: lk.metricsKey, capacity: lk.bucket.configuration.capacity,
                                            refillPerSecond: lk.bucket.configuration.refill.perSecond,
                                            tokens: port?.tokens(key: Int32(k), parent: table.parentOf[k], keying: table.keying, isParent: lk.isParent)
                                                ?? lk.bucket.tokens(at: now),
                                            oldestWaitSeconds: Double(ages?.first ?? 0) / 1e9, pending: ages))
        }
        metrics.sampleGroups(to: now)
        var snapshot = FleetSnapshot(scenario: scenario.name, mode: .simulated, keying: table.keying, now: now,
                             sampleInterval: metrics.sampleInterval, noisyEnabled: noisyEnabled, keys: keys,
                             groups: metrics.groupSnapshots(pending: groupsWaiting),
                             upstream: metrics.upstreamSnapshot(name: upstream.name, limits: upstream.limits, at: now),
                             lastChange: lastChange, tuningFactor: scenario.tuning == nil ? nil : tuningFactor,
                             tuningMoves: tuningMoves, warnings: warnings())
        snapshot.replicas = replicaSnapshot()
        return snapshot
    }

    /// The report of the run so far, over `duration` (default: time so far).
    mutating func report(mode: FleetMode, duration: Nanoseconds? = nil, wallSeconds: Double) -> FleetReport {
        for k in table.keys.indices { catchUp(Int32(k)) }
        let current = Set(table.keys.map(\.metricsKey))
        var baseRefill: [Int: Double] = [:]
        for t in [table] + Array(parked.values) {
            for lk in t.keys { baseRefill[lk.metricsKey] = lk.baseRefill }
        }
        let m = metrics
        var report = FleetReport(metrics: m, scenario: scenario.name, mode: mode, seed: seed, duration: duration ?? now,
                           keying: table.keying, includeKey: { current.contains($0) || m.keys[$0].requests > 0 },
                           pending: pendingWaits(), baseRefill: baseRefill,
                           tuningFactor: scenario.tuning == nil ? nil : tuningFactor, tuningMoves: tuningMoves,
                           upstreamName: upstream.name, completed: completed, failed: failed,
                           warnings: warnings(), wallSeconds: wallSeconds)
        report.replicas = replicaSnapshot(over: duration)
        return report
    }

    /// What a person must know to read the numbers right: a group whose requests cost more than
    /// the bucket they must pass can hold is refused every time (nothing else says why).
    func warnings() -> [String] {
        var out: [String] = []
        let groupNames = metrics.groups.map(\.name)
        for (g, name) in groupNames.enumerated() {
            var typical = 0.0, smallest = Double.infinity, capacity = Double.infinity
            for c in clients.indices where Int(clients[c].group) == g {
                let (t, s) = clients[c].cost.typicalAndSmallestTokens
                typical = Swift.max(typical, t)
                smallest = Swift.min(smallest, s)
                let k = Int(table.clientKey[c])
                capacity = Swift.min(capacity, table.keys[k].bucket.configuration.capacity)
                let p = table.parentOf[k]
                if p >= 0 { capacity = Swift.min(capacity, table.keys[Int(p)].bucket.configuration.capacity) }
            }
            guard capacity.isFinite, typical > capacity else { continue }
            let all = smallest > capacity
            out.append("every `\(name)` request costs \(all ? "" : "typically ")~\(NumberText.significant(typical, 2)) tokens > capacity \(fmt(capacity)): \(all ? "all" : "most") refused")
        }
        return out
    }
}

extension CostModel {
    /// A typical cost in tokens (the lognormal fits' medians added) and the smallest possible.
    var typicalAndSmallestTokens: (Double, Double) {
        switch self {
        case .request: return (1, 1)
        case .fixed(let x): return (x, x)
        case .llm(let p):
            let median = exp(p.promptMu) + exp(p.completionMu)
            return (median, 2)
        }
    }
}
