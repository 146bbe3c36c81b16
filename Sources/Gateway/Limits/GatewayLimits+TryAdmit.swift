import TokenBucket

extension GatewayLimits {
    /// Admission that never waits, for the gateway's event-loop fast path: the ticket when
    /// every dimension has the cost now and nobody waits ahead; nil otherwise, having taken
    /// nothing (then ``admit(_:estimate:maxWait:)`` decides: wait FIFO, refuse with the
    /// refusal's details).
    ///
    /// Only for local buckets: with a shared store (another replica's view) this must return
    /// nil, so every request takes the store's path.
    func tryAdmit(_ client: ClientKey, estimate: TokenEstimate?) -> GatewayTicket? {
        guard store == nil else { return nil }
        let (bucket, parent) = bucket(for: client)
        let (spec, parentSpec) = settings.withLock { s in (s.spec(bucket: bucket), parent.map { s.parentSpec(tenant: $0) }) }
        let parentDimensions = parentSpec.map(Self.dimensions) ?? []
        var plan: [(GatewayDimension, Double)] = [(.requests, 1)]
        if let e = estimate {
            if spec.tokensPerMinute != nil && e.total > 0 { plan.append((.tokens, Double(e.total))) }
            if spec.inputTokensPerMinute != nil && e.prompt > 0 { plan.append((.inputTokens, Double(e.prompt))) }
            if spec.outputTokensPerMinute != nil && e.output > 0 { plan.append((.outputTokens, Double(e.output))) }
        }
        for (n, (d, cost)) in plan.enumerated() {
            let p = parentDimensions.contains(d) ? parent : nil
            if (try? buckets[d]!.tryAcquire(cost, for: bucket, parent: p)) != true {
                for (d, cost) in plan[..<n] {
                    try? buckets[d]!.refund(cost, for: bucket, parent: parentDimensions.contains(d) ? parent : nil)
                }
                return nil
            }
        }
        return GatewayTicket(bucket: bucket, parent: parent, estimate: estimate, taken: plan, waited: .zero,
                             parentDimensions: parentDimensions)
    }
}
