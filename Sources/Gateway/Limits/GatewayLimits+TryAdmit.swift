import TokenBucket

extension GatewayLimits {
    /// Admission that never waits, for the gateway's event-loop fast path: the ticket, and the
    /// levels of every limited dimension for the rate-limit headers, when every dimension has
    /// the cost now and nobody waits ahead; nil otherwise, having taken nothing (then
    /// ``admit(_:estimate:maxWait:)`` decides: wait FIFO, refuse with the refusal's details).
    ///
    /// One read of the settings, one library call per dimension (each takes the cost and reads
    /// the level under one lock), no configuration rebuilt: this runs for every request.
    ///
    /// Only for local buckets: with a shared store (another replica's view) this returns nil,
    /// so every request takes the store's path.
    func tryAdmit(_ client: ClientKey, estimate: TokenEstimate?) -> (ticket: GatewayTicket, levels: GatewayLevels)? {
        guard store == nil else { return nil }
        guard let (bucket, parent, resolved, parentDimensions, plan) = quickPlan(client, estimate: estimate) else { return nil }
        var levels = GatewayLevels()
        for (n, (d, cost)) in plan.enumerated() {
            let p = parentDimensions.contains(d) ? parent : nil
            guard let left = try? buckets[d].tryTake(cost, for: bucket, parent: p) else {
                for (d, cost) in plan[..<n] {
                    try? buckets[d].refund(cost, for: bucket, parent: parentDimensions.contains(d) ? parent : nil)
                }
                return nil
            }
            levels[d] = resolved.status(d, remaining: left)
        }
        // Limited dimensions this request took nothing from still show in the headers.
        if plan.count < resolved.dimensions.count {
            for d in resolved.dimensions where levels[d] == nil {
                levels[d] = resolved.status(d, remaining: buckets[d].tokens(for: bucket))
            }
        }
        let ticket = GatewayTicket(bucket: bucket, parent: parent, estimate: estimate, taken: plan, waited: .zero,
                                   parentDimensions: parentDimensions)
        return (ticket, levels)
    }

    /// For a request ``tryAdmit(_:estimate:)`` declined, the refusal ``admit(_:estimate:maxWait:)``
    /// with no wait allowed would answer, decided without taking anything: the first
    /// dimension whose admission is further away than the clock slack, or whose capacity the
    /// cost exceeds. nil when admission may still come within the slack (admit decides that),
    /// or with a shared store.
    func refusalNow(_ client: ClientKey, estimate: TokenEstimate?) -> GatewayRefusal? {
        guard store == nil else { return nil }
        guard let (bucket, parent, _, parentDimensions, plan) = quickPlan(client, estimate: estimate) else { return nil }
        for (d, cost) in plan {
            let p = parentDimensions.contains(d) ? parent : nil
            do {
                let wait = try buckets[d].admissionDelay(cost, for: bucket, parent: p)
                if wait == .zero { continue }
                // A wait within the slack is admitted by admit; it decides.
                guard wait > GatewayLimits.clockSlack else { return nil }
                return GatewayRefusal(dimension: d, bucket: bucket, retryAfter: wait, neverFits: false, cost: cost)
            } catch BucketError.costExceedsCapacity(let c, let capacity) {
                return GatewayRefusal(dimension: d, bucket: bucket, retryAfter: nil, neverFits: true, cost: c, capacity: capacity)
            } catch {
                return nil
            }
        }
        return nil
    }

    /// One read of the settings for a request: its bucket set and parent, its resolved limits,
    /// the dimensions its parent limits, and what it takes of each dimension, in admission
    /// order (every admission path's plan).
    func quickPlan(_ client: ClientKey, estimate: TokenEstimate?)
        -> (String, String?, ResolvedLimits, Set<GatewayDimension>, [(GatewayDimension, Double)])? {
        let read = settings.withLock { s -> (String, String?, ResolvedLimits, Set<GatewayDimension>)? in
            let (bucket, parent) = Self.bucket(for: client, keying: s.keying)
            guard let resolved = s.resolved(s.spec(bucket: bucket)) else { return nil }
            let parentDimensions = parent.flatMap { s.resolved(s.parentSpec(tenant: $0))?.dimensions } ?? []
            return (bucket, parent, resolved, parentDimensions)
        }
        guard let (bucket, parent, resolved, parentDimensions) = read else { return nil }
        var plan: [(GatewayDimension, Double)] = []
        plan.reserveCapacity(4)   // one allocation, however many dimensions follow
        plan.append((.requests, 1))
        if let e = estimate {
            if resolved.set.tokens != nil && e.total > 0 { plan.append((.tokens, Double(e.total))) }
            if resolved.set.inputTokens != nil && e.prompt > 0 { plan.append((.inputTokens, Double(e.prompt))) }
            if resolved.set.outputTokens != nil && e.output > 0 { plan.append((.outputTokens, Double(e.output))) }
        }
        return (bucket, parent, resolved, parentDimensions, plan)
    }
}
