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
        let pending = pendingWaits()
        var keys: [KeySnapshot] = []
        keys.reserveCapacity(table.keys.count)
        for k in table.keys.indices {
            catchUp(Int32(k))
            let lk = table.keys[k]
            let mk = lk.metricsKey
            let m = metrics.keys[mk]
            let (adm, tok, q) = metrics.keySeries(mk)
            var oldest = 0.0
            if let head = lk.queue.first {
                let r = requests[Int(head)]
                oldest = Double(now - (lk.isParent ? r.parentStart : r.arrival)) / 1e9
            }
            let waits = pending.keys[mk].map { m.waits.percentiles(includingPending: $0) } ?? metrics.waitPercentiles(key: mk)
            keys.append(KeySnapshot(key: lk.name, group: m.group, capacity: lk.bucket.configuration.capacity,
                                    refillPerSecond: lk.bucket.configuration.refill.perSecond,
                                    tokens: lk.bucket.tokens(at: now), waiters: m.waiting, oldestWaitSeconds: oldest,
                                    requests: m.requests, admitted: m.admitted, rejected: m.rejected,
                                    upstream429: m.upstream429, maxQueue: m.maxQueue, waitMs: waits,
                                    admittedPerSecond: adm, tokenSeries: tok, queueSeries: q, timedOut: m.timedOut))
        }
        metrics.sampleGroups(to: now)
        var groups = metrics.groupSnapshots()
        for g in groups.indices where g < pending.groups.count && !pending.groups[g].isEmpty {
            let ages = pending.groups[g]
            groups[g].waiting = ages.count
            groups[g].oldestWaitSeconds = Double(ages.max() ?? 0) / 1e9
            groups[g].waitMs = metrics.groups[g].waits.percentiles(includingPending: ages)
        }
        let l = upstream.limits
        let up = UpstreamSnapshot(name: upstream.name, requestsPerMinute: l.requestsPerMinute,
                                  tokensPerMinute: l.tokensPerMinute ?? l.inputTokensPerMinute,
                                  requestsLastMinute: metrics.requestsLastMinute(at: now),
                                  tokensLastMinute: metrics.tokensLastMinute(at: now),
                                  requests: metrics.upstream.requests, status429: metrics.upstream.status429,
                                  rate429: metrics.recent429Rate(at: now), inFlight: metrics.upstream.inFlight)
        var s = FleetSnapshot(scenario: scenario.name, mode: .simulated, keying: table.keying, now: now,
                              sampleInterval: metrics.sampleInterval, noisyEnabled: noisyEnabled, keys: keys,
                              groups: groups, upstream: up, lastChange: lastChange,
                              tuningFactor: scenario.tuning == nil ? nil : tuningFactor, tuningMoves: tuningMoves)
        s.warnings = warnings()
        return s
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
        return FleetReport(metrics: m, scenario: scenario.name, mode: mode, seed: seed, duration: duration ?? now,
                           keying: table.keying, includeKey: { current.contains($0) || m.keys[$0].requests > 0 },
                           pending: pendingWaits(), baseRefill: baseRefill,
                           tuningFactor: scenario.tuning == nil ? nil : tuningFactor, tuningMoves: tuningMoves,
                           upstreamName: upstream.name, completed: completed, failed: failed,
                           warnings: warnings(), wallSeconds: wallSeconds)
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
