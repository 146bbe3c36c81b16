import TokenBucket

// The client-side limiter: keying, first-come-first-served waiting on `BucketState`
// reservations, and the two-level (hierarchical) admission.
//
// Hierarchical admission, all or nothing: a request first reserves on its user's bucket and
// waits there; at the instant the user bucket admits it, it reserves on the parent (tenant or
// global) bucket and waits there; it is admitted at the parent's admission instant, which is
// the later of the two. The parent is only ever reserved at the current instant, so its tokens
// are used exactly when it hands them out: it can never be over-committed, and a user queued
// far ahead in its own bucket cannot hold the parent's queue (no head-of-line blocking across
// users). A request refused at either level consumes nothing there.
extension FleetCore {
    // MARK: Tables

    /// Keys per keying strategy that keep time series (parents always do).
    static let chartedKeys = 256

    /// With replicas on local buckets, the table holds one copy of the keying's keys per
    /// replica (named `r2:user-1`, …; `local-split` at the limit ÷ N), replica-major, so replica
    /// r's copy of key k is `k + r × keysPerReplica`.
    mutating func buildTable(_ keying: Keying) throws -> KeyingTable {
        var t = KeyingTable(keying: keying)
        let groupNames = metrics.groups.map(\.name)
        func groupOf(_ members: [Int]) -> String {
            let gs = Set(members.map { clients[$0].group })
            return gs.count == 1 ? groupNames[Int(gs.first!)] : "mixed"
        }
        let copies = replicaState?.localCopies ?? 1
        let split = replicaState?.spec.buckets == .localSplit ? Double(copies) : 1
        var prefix = ""
        func addKey(_ name: String, _ spec: BucketSpec, members: [Int], parent: Bool) throws -> Int32 {
            let local = split == 1 ? spec : BucketSpec(capacity: spec.capacity / split, refillPerSecond: spec.refillPerSecond / split)
            let config = try local.configuration().scaled(refill: tuningFactor)
            // Charts for the first 256 keys of each strategy, and for every parent.
            let mk = metrics.addKey(prefix + name, group: groupOf(members), capacity: config.capacity,
                                    refillPerSecond: config.refill.perSecond, at: now,
                                    series: parent || t.keys.count < Self.chartedKeys)
            let b = BucketState(config)
            t.keys.append(LimiterKey(name: prefix + name, bucket: b, capacityUnits: TokenUnits.units(config.capacity),
                                     baseRefill: local.refillPerSecond, metricsKey: mk, isParent: parent))
            t.parentOf.append(-1)
            return Int32(t.keys.count - 1)
        }
        let all = Array(clients.indices)
        for copy in 0..<copies {
            prefix = copies > 1 ? "r\(copy + 1):" : ""
            var clientKey: [Int32] = []
            switch keying {
            case .shared:
                let k = try addKey("shared", limits.shared, members: all, parent: false)
                clientKey = Array(repeating: k, count: clients.count)
            case .perUser:
                for c in all { clientKey.append(try addKey(clients[c].name, limits.perUser, members: [c], parent: false)) }
            case .perTenant:
                var keyOfTenant: [Int32] = []
                for (i, name) in tenantNames.enumerated() {
                    let members = all.filter { clients[$0].tenant == i }
                    keyOfTenant.append(try addKey(name, limits.perTenant, members: members, parent: false))
                }
                clientKey = all.map { keyOfTenant[Int(clients[$0].tenant)] }
            case .hierarchical:
                for c in all { clientKey.append(try addKey(clients[c].name, limits.perUser, members: [c], parent: false)) }
                switch limits.parentScope {
                case .global:
                    let p = try addKey("global", limits.parent, members: all, parent: true)
                    for c in all { t.parentOf[Int(clientKey[c])] = p }
                case .tenant:
                    for (i, name) in tenantNames.enumerated() {
                        let members = all.filter { clients[$0].tenant == i }
                        let p = try addKey("tenant:" + name, limits.parent, members: members, parent: true)
                        for c in members { t.parentOf[Int(clientKey[c])] = p }
                    }
                }
            }
            if copy == 0 { t.clientKey = clientKey }
        }
        t.keysPerReplica = copies > 1 ? Int32(t.keys.count / copies) : 0
        configureAll(t)   // port mode: the library limiters get the new table's buckets
        return t
    }

    /// Writes a key's time-series samples up to now; call before changing its bucket or queue.
    @inline(__always)
    mutating func catchUp(_ k: Int32) {
        let mk = table.keys[Int(k)].metricsKey
        guard metrics.needsCatchUp(key: mk, at: now) else { return }
        let b = table.keys[Int(k)].bucket
        metrics.catchUp(key: mk, to: now) { b.balance(at: $0) }
    }

    // MARK: Admission

    /// A request (new, retried, or re-queued by a keying switch) reaches its user's bucket.
    /// `requeue`: it had been waiting already, so a refusal counts as a time-out.
    /// `arrivedAt` (>= 0): when it reached its replica, if earlier than now (a shared store
    /// decides a round-trip half later); its waits count from there.
    mutating func enterLimiter(_ slot: Int32, requeue: Bool, arrivedAt: Int64 = -1) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        let group = Int(clients[c].group)
        // Local buckets of several replicas: this replica's copy of the client's key.
        let k = table.clientKey[c] &+ requests[s].replica &* table.keysPerReplica
        let ki = Int(k)
        let p = table.parentOf[ki]
        requests[s].childKey = k
        requests[s].parentKey = p
        requests[s].queuedChild = false
        requests[s].queuedParent = false
        if !requeue {
            requests[s].arrival = arrivedAt >= 0 ? arrivedAt : now
            requests[s].order = nextOrder
            nextOrder &+= 1
        }
        catchUp(k)
        let mk = table.keys[ki].metricsKey
        // A waiter re-queued by a keying switch is new to this key but not to its group.
        metrics.arrived(key: mk, group: requeue ? -1 : group)
        let units = requests[s].costUnits
        var refuse = units > table.keys[ki].capacityUnits || (p >= 0 && units > table.keys[Int(p)].capacityUnits)
        // Port mode (a driver whose library limiters wait): everything from here on is theirs.
        if !refuse, let port {
            enterPort(port, slot: slot, key: ki, parent: p, requeue: requeue)
            return
        }
        // The common case first: tokens there and nobody queued (no division, no reservation).
        if !refuse, table.keys[ki].bucket.tryAcquire(units: units, at: now) {
            requests[s].reservation = nil
            passChild(slot)
            return
        }
        if !refuse { refuse = mustRefuse(ki, units: units, deadline: requests[s].deadline) }
        if refuse {
            if requeue { metrics.timedOut(key: mk, group: group, wasQueued: false) } else { metrics.rejected(key: mk, group: group) }
            finish(slot, .refused)
            return
        }
        if reserveAndQueue(slot, key: ki, phase: .childQueue) {
            requests[s].queuedChild = true
        } else {
            passChild(slot)
        }
    }

    /// Whether bucket `k` refuses a request of `units` now rather than queue it: it would be
    /// admitted after the request's deadline, or the queue is full (so memory stays bounded
    /// however fast clients send).
    @inline(__always)
    func mustRefuse(_ k: Int, units: Int64, deadline: Nanoseconds) -> Bool {
        table.keys[k].queue.count >= queueLimit
            || deadline != .max && table.keys[k].bucket.admissionTime(units: units, at: now) > deadline
    }

    /// Reserves the request's cost on bucket `k`. If that admits it later than now, it waits in
    /// `k`'s queue (in `phase`) until its admission event, and this returns true.
    @inline(__always)
    mutating func reserveAndQueue(_ slot: Int32, key k: Int, phase: Request.Phase) -> Bool {
        let s = Int(slot)
        let r = table.keys[k].bucket.reserve(units: requests[s].costUnits, at: now)
        guard r.admitAt > now else {
            requests[s].reservation = nil
            return false
        }
        requests[s].reservation = r
        requests[s].phase = phase
        metrics.enqueued(key: table.keys[k].metricsKey)
        table.keys[k].queue.append(slot)
        events.push(r.admitAt, .admit, slot, requests[s].gen)
        return true
    }

    /// The user bucket has admitted it: admit, or wait on the parent.
    mutating func passChild(_ slot: Int32) {
        let s = Int(slot)
        let p = requests[s].parentKey
        guard p >= 0 else { admitFinally(slot); return }
        let pi = Int(p)
        catchUp(p)
        let pmk = table.keys[pi].metricsKey
        metrics.arrived(key: pmk, group: -1)
        requests[s].parentStart = now
        let units = requests[s].costUnits
        if table.keys[pi].bucket.tryAcquire(units: units, at: now) {
            admitFinally(slot)
            return
        }
        if mustRefuse(pi, units: units, deadline: requests[s].deadline) {
            metrics.rejected(key: pmk, group: -1)
            let c = Int(requests[s].client)
            metrics.timedOut(key: table.keys[Int(requests[s].childKey)].metricsKey, group: Int(clients[c].group),
                             wasQueued: requests[s].queuedChild)
            finish(slot, .refused)
            return
        }
        if reserveAndQueue(slot, key: pi, phase: .parentQueue) {
            requests[s].queuedParent = true
            if !requests[s].queuedChild {
                requests[s].queuedChild = true
                let ck = requests[s].childKey
                catchUp(ck)
                metrics.enqueued(key: table.keys[Int(ck)].metricsKey)
            }
        } else {
            admitFinally(slot)
        }
    }

    mutating func admitFinally(_ slot: Int32) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        let p = requests[s].parentKey
        if p >= 0 {
            metrics.admitted(key: table.keys[Int(p)].metricsKey, group: -1, wait: now - requests[s].parentStart,
                             at: now, wasQueued: requests[s].queuedParent)
        }
        metrics.admitted(key: table.keys[Int(requests[s].childKey)].metricsKey, group: Int(clients[c].group),
                         wait: now - requests[s].arrival, at: now, wasQueued: requests[s].queuedChild)
        requests[s].queuedChild = false
        requests[s].queuedParent = false
        requests[s].reservation = nil
        if replicaState != nil, replicaAdmitted(slot) { return }
        sendUpstream(slot)
    }

    mutating func onAdmit(slot: Int32, gen: UInt32) {
        let s = Int(slot)
        guard requests[s].gen == gen else { return }
        let inParent = requests[s].phase == .parentQueue
        let k = inParent ? requests[s].parentKey : requests[s].childKey
        catchUp(k)
        if inParent { catchUp(requests[s].childKey) }
        removeFromQueue(slot, key: Int(k))
        if inParent { admitFinally(slot) } else { passChild(slot) }
    }

    /// Removes a waiter from its key's queue: the head, unless a re-plan reordered things.
    mutating func removeFromQueue(_ slot: Int32, key k: Int) {
        if table.keys[k].queue.first == slot {
            table.keys[k].queue.removeFirst()
        } else if let i = table.keys[k].queue.firstIndex(of: slot) {
            table.keys[k].queue.remove(at: i)
        }
    }
}

extension BucketConfiguration {
    /// The same capacity with the refill multiplied by `factor`.
    func scaled(refill factor: Double) throws -> BucketConfiguration {
        factor == 1 ? self : try BucketConfiguration(capacity: capacity, refillPerSecond: refill.perSecond * factor)
    }
}
