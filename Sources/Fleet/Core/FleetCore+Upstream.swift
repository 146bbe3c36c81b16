import TokenBucket

// The simulated provider: enforces its own limits on `BucketState`s (continuous refill, each
// dimension checked all or nothing), answers 429 with a Retry-After computed from its buckets'
// next admission, and takes time to answer (time to first token + output tokens / speed).
extension FleetCore {
    @inline(__always)
    func upstreamUnits(_ kind: UpstreamDimension.Kind, _ s: Int) -> Int64 {
        switch kind {
        case .requests, .burst, .daily: return TokenUnits.perToken
        case .tokens: return Int64(requests[s].prompt + requests[s].completion) * TokenUnits.perToken
        case .promptTokens: return Int64(requests[s].prompt) * TokenUnits.perToken
        case .completionTokens: return Int64(requests[s].completion) * TokenUnits.perToken
        }
    }

    /// `metricsKey` (>= 0): the key the request was admitted on, when the table may have
    /// changed since (a replica waiting for the shared store's answer).
    mutating func sendUpstream(_ slot: Int32, metricsKey: Int = -1) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        let group = Int(clients[c].group)
        let mk = metricsKey >= 0 ? metricsKey : table.keys[Int(requests[s].childKey)].metricsKey
        windowRequests &+= 1
        let tokens = Double(requests[s].prompt + requests[s].completion)
        // Every dimension admits now, or none is touched: try on copies, commit all together.
        var admitted = true
        switch upstreamDims.count {
        case 0: break
        case 1:
            admitted = upstreamDims[0].bucket.tryAcquire(units: upstreamUnits(upstreamDims[0].kind, s), at: now)
        default:
            for i in upstreamDims.indices {
                var trial = upstreamDims[i].bucket
                if !trial.tryAcquire(units: upstreamUnits(upstreamDims[i].kind, s), at: now) { admitted = false; break }
            }
            if admitted {
                for i in upstreamDims.indices {
                    _ = upstreamDims[i].bucket.tryAcquire(units: upstreamUnits(upstreamDims[i].kind, s), at: now)
                }
            }
        }
        if admitted {
            metrics.upstreamAnswered(key: mk, group: group, tokens: tokens, status429: false, at: now)
            metrics.upstreamInFlight(1)
            requests[s].phase = .upstream
            var latency = upstreamRng.uniform(upstream.ttft.lowerBound, upstream.ttft.upperBound)
            if case .llm = clients[c].cost {
                latency += Double(requests[s].completion)
                    / upstreamRng.uniform(upstream.tokensPerSecond.lowerBound, upstream.tokensPerSecond.upperBound)
            }
            events.push(now + Int64(latency * 1e9), .done, slot, requests[s].gen)
            return
        }
        var admitAt = now
        var never = false
        for i in upstreamDims.indices {
            let u = upstreamUnits(upstreamDims[i].kind, s)
            if u > upstreamDims[i].capacityUnits { never = true; continue }
            let t = upstreamDims[i].bucket.admissionTime(units: u, at: now)
            if t > admitAt { admitAt = t }
        }
        // 429. Retry-After as `retry-after-ms` would carry it: the wait until every dimension
        // admits, rounded up to a whole millisecond; none when the request can never fit.
        window429 &+= 1
        metrics.upstreamAnswered(key: mk, group: group, tokens: tokens, status429: true, at: now)
        let retryAfter: Int64? = never ? nil : ((admitAt - now + Self.oneMillisecond - 1) / Self.oneMillisecond) * Self.oneMillisecond
        handle429(slot, retryAfter: retryAfter)
    }

    /// The client's retry policy decides: retry after a delay, or give up.
    mutating func handle429(_ slot: Int32, retryAfter: Int64?) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        let n = requests[s].attempt
        let policy = clients[c].retry
        let delay = policy.delay(attempt: n, retryAfter: retryAfter, rng: &clients[c].rng)
        guard let d = delay, now + d <= requests[s].deadline else {
            finish(slot, .failed)
            return
        }
        requests[s].attempt = n + 1
        requests[s].phase = .retryWait
        events.push(now + d, .retry, slot, requests[s].gen)
    }

    mutating func onRetry(slot: Int32, gen: UInt32) {
        guard requests[Int(slot)].gen == gen else { return }
        route(slot)
    }

    mutating func onDone(slot: Int32, gen: UInt32) {
        guard requests[Int(slot)].gen == gen else { return }
        metrics.upstreamInFlight(-1)
        finish(slot, .completed)
    }
}
