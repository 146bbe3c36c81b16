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
        let read = settings.withLock { s -> (String, String?, ResolvedLimits, Set<GatewayDimension>)? in
            let (bucket, parent) = Self.bucket(for: client, keying: s.keying)
            guard let resolved = s.resolved(s.spec(bucket: bucket)) else { return nil }
            let parentDimensions = parent.flatMap { s.resolved(s.parentSpec(tenant: $0))?.dimensions } ?? []
            return (bucket, parent, resolved, parentDimensions)
        }
        guard let (bucket, parent, resolved, parentDimensions) = read else { return nil }
        var plan: [(GatewayDimension, Double)] = [(.requests, 1)]
        if let e = estimate {
            if resolved.set.tokens != nil && e.total > 0 { plan.append((.tokens, Double(e.total))) }
            if resolved.set.inputTokens != nil && e.prompt > 0 { plan.append((.inputTokens, Double(e.prompt))) }
            if resolved.set.outputTokens != nil && e.output > 0 { plan.append((.outputTokens, Double(e.output))) }
        }
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
}
