import SharedStore
import TokenBucket

/// One limit of a request on the shared store: the dimension it limits, its store key, its
/// configuration when admitted, and what the request took.
struct SharedSlot: Sendable {
    var dimension: GatewayDimension
    var key: String
    var configuration: BucketConfiguration
    var cost: Double
}

/// Admission on the shared store: the same plan as the local path (requests, then the token
/// dimensions the bucket set limits, each also at the hierarchical parent where the parent
/// limits it), sent as ONE `EVALSHA` that takes all of them or none, FIFO across replicas,
/// waiting within `maxWait`. The limits are read from the current settings on every request,
/// so the dashboard's capacity, refill, keying and preset edits apply at once (the script
/// reconfigures a key whose limits changed, keeping its level).
extension GatewayLimits {
    func admitShared(_ store: GatewayStore, _ client: ClientKey, estimate: TokenEstimate?,
                     maxWait: Duration) async throws -> GatewayAdmission {
        // One read of the settings: keying, bucket names and limits all from the same edit.
        let s = settings.withLock { $0 }
        let keying = s.keying
        let (bucket, parent) = Self.bucket(for: client, keying: keying)
        let spec = s.spec(bucket: bucket)
        let parentSpec = parent.map { s.parentSpec(tenant: $0) }
        let set = try spec.buckets()
        let parentSet = try parentSpec?.buckets()
        var plan: [(GatewayDimension, Double)] = [(.requests, 1)]
        if let e = estimate {
            func add(_ d: GatewayDimension, _ cost: Int) { if set[d] != nil && cost > 0 { plan.append((d, Double(cost))) } }
            add(.tokens, e.total)
            add(.inputTokens, e.prompt)
            add(.outputTokens, e.output)
        }
        var slots: [SharedSlot] = []
        for (d, cost) in plan {
            slots.append(SharedSlot(dimension: d, key: GatewayStore.key(keying, bucket: bucket, d), configuration: set[d]!, cost: cost))
            if let parent, let c = parentSet?[d], let p = parentSpec, Self.dimensions(p).contains(d) {
                slots.append(SharedSlot(dimension: d, key: GatewayStore.parentKey(parent, d), configuration: c, cost: cost))
            }
        }
        // Dimensions limited but not taken (a request without a token estimate), whose shared
        // level this gateway has never seen: read alongside, so its headers show the level
        // other replicas left (once per key; the periodic read keeps it current after).
        let unseen = Self.dimensions(spec).subtracting(plan.map(\.0)).sorted { $0.rawValue < $1.rawValue }.compactMap { d in
            let key = GatewayStore.key(keying, bucket: bucket, d)
            return store.levels.contains(key) ? nil : (key: key, configuration: set[d]!)
        }
        async let peeked: [Double]? = unseen.isEmpty ? nil : store.limiter.levels(unseen)
        let clock = ContinuousClock()
        let start = clock.now
        let answer = try await store.limiter.answer(slots.map { SharedLimit(key: $0.key, configuration: $0.configuration, cost: $0.cost) },
                                                    maxWait: maxWait)
        if let levels = await peeked {
            for (k, level) in zip(unseen, levels) { store.levels.record(k.key, k.configuration, level: level, used: true) }
        }
        if let levels = answer.levels {
            let admitted: Bool
            if case .admitted = answer.decision { admitted = true } else { admitted = false }
            for (slot, level) in zip(slots, levels) { store.levels.record(slot.key, slot.configuration, level: level, used: admitted) }
        }
        if answer.byPolicy { store.metrics?.decidedByPolicy() }
        func refusal(_ k: Int?, retryAfter: Duration?, never: Bool) -> GatewayRefusal {
            let slot = slots[Swift.min(k ?? 0, slots.count - 1)]
            return GatewayRefusal(dimension: slot.dimension, bucket: bucket, retryAfter: retryAfter, neverFits: never,
                                  cost: slot.cost, capacity: never ? slot.configuration.capacity : nil)
        }
        switch answer.decision {
        case .admitted(let permit):
            return .admitted(GatewayTicket(bucket: bucket, parent: parent, estimate: estimate, taken: plan,
                                           waited: clock.now - start, parentDimensions: parentSpec.map(Self.dimensions) ?? [],
                                           permit: permit, sharedLimits: slots))
        case .limited(let retryAfter):
            return .limited(refusal(answer.binding, retryAfter: retryAfter, never: false))
        case .never(let limit):
            return .limited(refusal(answer.binding ?? slots.firstIndex { $0.key == limit.key }, retryAfter: nil, never: true))
        case .unavailable:
            return .unavailable(StoreOutage())
        }
    }

    /// Gives everything a shared ticket took back (nothing reached the upstream), after the
    /// response: a refund of each cost, as the local path's `refund` (never above full). A
    /// request cancelled while still waiting for its turn is given back inside the limiter,
    /// with the library's cancel rule.
    func giveBackShared(_ store: GatewayStore, _ ticket: GatewayTicket) {
        guard let permit = ticket.permit else { return }
        if permit.isShared { for slot in ticket.sharedLimits { store.levels.adjust(slot.key, by: slot.cost) } }
        let nothing = ticket.sharedLimits.map { _ in 0.0 }
        store.later { await store.limiter.reconcile(permit, actual: nothing) }
    }

    /// Settles a shared ticket's token reservations with the usage the upstream reported
    /// (actual − estimate per limit: refund or charge), after the response. The shared levels
    /// move at once, so the headers that follow already show it.
    func reconcileShared(_ store: GatewayStore, _ ticket: GatewayTicket, usage: TokenUsage) {
        guard let permit = ticket.permit else { return }
        let actual = ticket.sharedLimits.map { slot -> Double in
            switch slot.dimension {
            case .requests: slot.cost
            case .tokens: Double(usage.total)
            case .inputTokens: Double(usage.input)
            case .outputTokens: Double(usage.output)
            }
        }
        guard zip(ticket.sharedLimits, actual).contains(where: { $0.cost != $1 }) else { return }
        if permit.isShared {
            for (slot, a) in zip(ticket.sharedLimits, actual) where a != slot.cost { store.levels.adjust(slot.key, by: slot.cost - a) }
        }
        store.later { await store.limiter.reconcile(permit, actual: actual) }
    }
}
