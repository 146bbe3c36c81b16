import TokenBucket

/// The simulated provider behind a live fleet: the simulator's upstream (`SimCore+Upstream.swift`)
/// as a value that real tasks call under the fleet's lock. It enforces its limits on the
/// library's `BucketState`s at the real instant of each call (every dimension all or nothing),
/// answers 429 with a Retry-After (the wait until every dimension admits, rounded up to a whole
/// millisecond, as `retry-after-ms` carries it), and says how long the answer takes (time to
/// first token + output tokens ÷ tokens per second), which the calling task then sleeps for real.
///
/// ```swift
/// var up = try LiveUpstream(spec: scenario.upstream, seed: 1)
/// switch up.call(cost, streams: true, at: now) {
/// case .answered(let latency): try await sleep(latency)
/// case .tooManyRequests(let retryAfter): /* the client's retry policy */
/// }
/// ```
struct LiveUpstream: Sendable {
    enum Answer: Equatable {
        /// Accepted; the answer takes this many nanoseconds.
        case answered(latency: Int64)
        /// 429, with a Retry-After in nanoseconds (nil when the request can never fit).
        case tooManyRequests(retryAfter: Int64?)
    }

    var spec: UpstreamSpec
    var dims: [SimCore.UpstreamDimension]
    /// Latency draws: the simulator's upstream stream (stream 0 of the seed).
    var rng: Xoshiro256

    init(spec: UpstreamSpec, seed: UInt64) throws {
        self.spec = spec
        dims = try SimCore.dimensions(for: spec.limits)
        rng = Xoshiro256(seed: seed, stream: 0)
    }

    /// Replaces the limits (a preset); the buckets start full, as the simulator's do.
    mutating func setLimits(_ limits: UpstreamLimits) throws {
        dims = try SimCore.dimensions(for: limits)
        spec.limits = limits
    }

    static func units(_ kind: SimCore.UpstreamDimension.Kind, _ cost: RequestCost) -> Int64 {
        switch kind {
        case .requests, .burst: return TokenUnits.perToken
        case .tokens: return Int64(cost.prompt + cost.completion) * TokenUnits.perToken
        case .promptTokens: return Int64(cost.prompt) * TokenUnits.perToken
        case .completionTokens: return Int64(cost.completion) * TokenUnits.perToken
        }
    }

    /// One call at `now` (ns on the fleet's clock).
    /// - Complexity: O(dimensions), no allocation.
    mutating func call(_ cost: RequestCost, streams: Bool, at now: Int64) -> Answer {
        // Every dimension admits now, or none is touched: try on copies, commit all together.
        var admitted = true
        for i in dims.indices {
            var trial = dims[i].bucket
            if !trial.tryAcquire(units: Self.units(dims[i].kind, cost), at: now) { admitted = false; break }
        }
        if admitted {
            for i in dims.indices { _ = dims[i].bucket.tryAcquire(units: Self.units(dims[i].kind, cost), at: now) }
            var latency = rng.uniform(spec.ttft.lowerBound, spec.ttft.upperBound)
            if streams {
                latency += Double(cost.completion) / rng.uniform(spec.tokensPerSecond.lowerBound, spec.tokensPerSecond.upperBound)
            }
            return .answered(latency: Int64(latency * 1e9))
        }
        var admitAt = now
        var never = false
        for i in dims.indices {
            let u = Self.units(dims[i].kind, cost)
            if u > dims[i].capacityUnits { never = true; continue }
            let t = dims[i].bucket.admissionTime(units: u, at: now)
            if t > admitAt { admitAt = t }
        }
        let ms = SimCore.oneMillisecond
        return .tooManyRequests(retryAfter: never ? nil : ((admitAt - now + ms - 1) / ms) * ms)
    }
}
