import TokenBucket

// Replicas behind a balancer (``ReplicaSpec``): which replica a request reaches, the trip to the
// shared store and back, and the counts the report and the dashboard show.
//
// Local buckets: the table holds each replica's copy of the keying's keys (see `buildTable`),
// and a request waits on its replica's copy with every rule of the single limiter unchanged.
// Shared buckets: one table, in the store. A request reaches its replica, its operation reaches
// the store half a round trip later, queues there behind earlier ones and is decided when the
// store has served it (the whole limiter runs at that instant: admitted, refused, or reserved
// to wait FIFO across replicas); the replica has the answer half a round trip after that and
// only then sends an admitted request on (a reserved one at its admission instant, if later).
extension FleetCore {
    /// A request (a first try or a retry) reaches the fleet: without replicas, the limiter;
    /// with replicas, the balancer.
    @inline(__always)
    mutating func route(_ slot: Int32) {
        guard replicaState != nil else { enterLimiter(slot, requeue: false); return }
        routeToReplica(slot)
    }

    mutating func routeToReplica(_ slot: Int32) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        let r = replicaState!.pick(client: c)
        replicaState!.routed[Int(r)] &+= 1
        requests[s].replica = r
        requests[s].routedAt = now
        guard replicaState!.spec.buckets == .shared else {
            requests[s].answerAt = 0
            enterLimiter(slot, requeue: false)
            return
        }
        let rtt = replicaState!.spec.storeRoundTrip
        let there = rtt / 2
        let decided = replicaState!.serve(arrivingAt: now + there)
        requests[s].answerAt = decided + (rtt - there)
        replicaState!.addedLatency.record(requests[s].answerAt - now)
        requests[s].phase = .storeTrip
        events.push(decided, .storeDecision, slot, requests[s].gen)
    }

    /// The store serves the request's operation now.
    mutating func onStoreDecision(slot: Int32, gen: UInt32) {
        let s = Int(slot)
        guard requests[s].gen == gen else { return }
        if replicaState!.stampsFromReplicas {
            decideOnStamp(slot)
        } else {
            enterLimiter(slot, requeue: false, arrivedAt: requests[s].routedAt)
        }
    }

    /// The replica has the store's "admitted": the request goes on.
    mutating func onStoreAnswer(slot: Int32, gen: UInt32) {
        let s = Int(slot)
        guard requests[s].gen == gen else { return }
        sendUpstream(slot, metricsKey: Int(requests[s].admittedMetricsKey))
    }

    /// Counts an admission; true when the request must first wait for the store's answer to
    /// reach its replica (it then goes on at `answerAt`).
    mutating func replicaAdmitted(_ slot: Int32) -> Bool {
        let s = Int(slot)
        replicaState!.admitted[Int(requests[s].replica)] &+= 1
        replicaState!.clientAdmitted[Int(requests[s].client)] &+= 1
        replicaState!.admittedUnits &+= requests[s].costUnits
        guard requests[s].answerAt > now else { return false }
        requests[s].phase = .storeTrip
        requests[s].admittedMetricsKey = Int32(table.keys[Int(requests[s].childKey)].metricsKey)
        events.push(requests[s].answerAt, .storeAnswer, slot, requests[s].gen)
        return true
    }

    // MARK: A store on the replicas' clocks

    /// The store decides on the time its replica sent (true time + that replica's offset), as a
    /// GCRA script that takes the caller's time does: admit now (all of the request's buckets,
    /// or none), or refuse; it never reserves, so nothing waits. A replica whose clock runs
    /// ahead sees every bucket fuller than it is and pushes the theoretical arrival time past
    /// what the others' clocks reach: they are refused until true time catches up.
    ///
    /// The table's `BucketState`s stay the replay the charts read: each admission takes its
    /// cost there at the true instant (they go below zero when the store over-admits).
    mutating func decideOnStamp(_ slot: Int32) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        let group = Int(clients[c].group)
        let k = table.clientKey[c]
        let p = table.parentOf[Int(k)]
        requests[s].childKey = k
        requests[s].parentKey = p
        requests[s].queuedChild = false
        requests[s].queuedParent = false
        requests[s].arrival = requests[s].routedAt
        requests[s].order = nextOrder
        nextOrder &+= 1
        catchUp(k)
        let mk = table.keys[Int(k)].metricsKey
        metrics.arrived(key: mk, group: group)
        let stamp = Double(now + replicaState!.clockOffset[Int(requests[s].replica)])
        let keying = table.keying
        if replicaState!.stampedTAT[keying] == nil {
            replicaState!.stampedTAT[keying] = Array(repeating: -.infinity, count: table.keys.count)
        }
        let tokens = Double(requests[s].costUnits) / Double(TokenUnits.perToken)
        /// The key's TAT after admitting the request at `stamp`, or nil when it would not fit.
        func next(_ key: Int32) -> Double? {
            let config = table.keys[Int(key)].bucket.configuration
            let perToken = 1e9 / config.refill.perSecond   // ns per token
            let after = Swift.max(replicaState!.stampedTAT[keying]![Int(key)], stamp) + tokens * perToken
            return after - stamp <= config.capacity * perToken ? after : nil
        }
        let child = next(k)
        let parent = p >= 0 ? next(p) : nil
        guard let child, p < 0 || parent != nil else {
            metrics.rejected(key: mk, group: group)
            finish(slot, .refused)
            return
        }
        replicaState!.stampedTAT[keying]![Int(k)] = child
        if let parent { replicaState!.stampedTAT[keying]![Int(p)] = parent }
        requests[s].reservation = nil
        portPass(slot)   // the replay buckets take the cost; the parent counts it; admitted
    }
}
