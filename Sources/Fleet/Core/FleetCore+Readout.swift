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

    /// One frame's read-out of every key, group and the provider at `now`.
    ///
    /// A dashboard takes one every frame (20 a second, 10,000 keys), so the loop reads each key
    /// in place (no copy of its bucket, queue or metrics record), and a full, idle bucket (most
    /// keys of a large fleet, most of the time) reports its capacity without the 128-bit
    /// arithmetic of a level read.
    /// - Complexity: O(keys + waiting requests + charted keys × series length).
    mutating func snapshot() -> FleetSnapshot {
        var groupsWaiting = Array(repeating: [Int64](), count: metrics.groups.count)
        var keys: [KeySnapshot] = []
        keys.reserveCapacity(table.keys.count)
        for k in table.keys.indices {
            catchUp(Int32(k))
            let isParent = table.keys[k].isParent
            // Waits so far of this key's waiters (and of their groups), head (oldest) first.
            var ages: [Int64]?
            if !table.keys[k].queue.isEmpty {
                var out: [Int64] = []
                out.reserveCapacity(table.keys[k].queue.count)
                for slot in table.keys[k].queue {
                    let r = requests[Int(slot)]
                    let g = Int(clients[Int(r.client)].group)
                    if g < groupsWaiting.count { groupsWaiting[g].append(now - r.arrival) }
                    out.append(now - (isParent ? r.parentStart : r.arrival))
                }
                ages = out
            }
            let p = table.parentOf[k]
            let tokens: Double
            if let port {
                tokens = port.tokens(key: Int32(k), parent: p, keying: table.keying, isParent: isParent)
            } else if table.keys[k].bucket.isFullAndIdle(at: now) {
                tokens = Double(table.keys[k].bucket.capacityUnits) / 1e9
            } else {
                tokens = table.keys[k].bucket.tokens(at: now)
            }
            let mk = table.keys[k].metricsKey
            keys.append(keySnapshot(metricsKey: mk, configuration: table.keys[k].bucket.configuration, tokens: tokens,
                                    pending: ages, parent: p >= 0 ? table.keys[Int(p)].name : nil))
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

    /// One key as a frame shows it, read field by field from its metrics record (a copy of the
    /// whole record, with its histogram and series, costs more than the read-out itself).
    /// `pending`: the waits so far of its waiters, head first.
    private mutating func keySnapshot(metricsKey mk: Int, configuration: BucketConfiguration, tokens: Double,
                                      pending: [Int64]?, parent: String?) -> KeySnapshot {
        let waits = pending.map { metrics.waitPercentiles(key: mk, includingPending: $0) } ?? metrics.waitPercentiles(key: mk)
        let (admitted, tokenSeries, queue) = metrics.keySeries(mk)
        return KeySnapshot(key: metrics.keys[mk].name, group: metrics.keys[mk].group, capacity: configuration.capacity,
                           refillPerSecond: configuration.refill.perSecond, tokens: tokens,
                           waiters: metrics.keys[mk].waiting, oldestWaitSeconds: Double(pending?.first ?? 0) / 1e9,
                           requests: metrics.keys[mk].requests, admitted: metrics.keys[mk].admitted,
                           rejected: metrics.keys[mk].rejected, upstream429: metrics.keys[mk].upstream429,
                           maxQueue: metrics.keys[mk].maxQueue, waitMs: waits, admittedPerSecond: admitted,
                           tokenSeries: tokenSeries, queueSeries: queue, timedOut: metrics.keys[mk].timedOut, parent: parent)
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
