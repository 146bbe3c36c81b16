import TokenBucket

// What a client draws from its seeded generator — when it sends, what a request costs, how long
// it backs off after a 429 — as plain functions of the generator. The simulator
// (`FleetCore+Clients.swift`, `FleetCore+Upstream.swift`) and live mode both call these, so they draw
// exactly the same numbers for the same seed.

extension Arrival {
    /// The next open-loop arrival after `t` (nil for closed loop).
    /// `phase` is the on/off cycle's offset (drawn once, by ``firstArrival(at:rng:phase:)``).
    func next(after t: Int64, phase: Int64, rng: inout Xoshiro256) -> Int64? {
        switch self {
        case .steady(let rate):
            return CheckedTime.adding(t, Swift.max(1, CheckedTime.nanoseconds(fromNanos: 1e9 / rate)))
        case .poisson(let rate):
            return CheckedTime.adding(t, Swift.max(1, CheckedTime.nanoseconds(fromNanos: (rng.exponential(rate: rate) * 1e9).rounded(.towardZero))))
        case let .onOff(rate, on, off):
            let cycle = on + off
            var from = t
            // The scenario's bounds (on ≥ 1 µs, rate × on ≥ 0.001) keep the periods stepped
            // through per request below about 1,000 on average; a million in a row without a
            // request has probability below e^-1000, and ends the client's arrivals rather than
            // hanging the run.
            var periods = 0
            while true {
                periods += 1
                guard from < CheckedTime.never, periods <= 1_000_000 else { return CheckedTime.never }
                let pos = (from + phase) % cycle
                if pos >= on {   // in the off part: jump to the next on start
                    from += cycle - pos
                    continue
                }
                let next = CheckedTime.adding(from, Swift.max(1, CheckedTime.nanoseconds(fromNanos: (rng.exponential(rate: rate) * 1e9).rounded(.towardZero))))
                let onEnd = from + (on - pos)
                if next < onEnd { return next }
                from = onEnd   // memoryless: restart the draw at the next on period
            }
        case let .ramp(from, to, over):
            // A Poisson process whose rate moves linearly from `from` to `to` over `over` (from the
            // start of the run), by inversion: the next arrival is where the expected count
            // Λ(t) = ∫ rate grows by an Exp(1) draw.
            let T = Double(over) / 1e9
            let b = (to - from) / T
            func cumulative(_ x: Double) -> Double {
                x <= T ? from * x + b * x * x / 2 : from * T + b * T * T / 2 + to * (x - T)
            }
            let target = cumulative(Double(t) / 1e9) + rng.exponential(rate: 1)
            let atEnd = cumulative(T)
            let x: Double
            if target <= atEnd {
                x = abs(b) < 1e-12 ? target / from : (-from + (from * from + 2 * b * target).squareRoot()) / b
            } else {
                guard to > 0 else { return nil }   // ramped down to silence
                x = T + (target - atEnd) / to
            }
            return Swift.max(t + 1, CheckedTime.nanoseconds(fromNanos: (x * 1e9).rounded(.up)))
        case .closedLoop:
            return nil
        }
    }

    /// The first arrival of an open-loop client starting at `now` (setting `phase` for on/off);
    /// nil for closed loop (see ``closedLoopStagger(at:rng:)``).
    func firstArrival(at now: Int64, rng: inout Xoshiro256, phase: inout Int64) -> Int64? {
        switch self {
        case .closedLoop:
            return nil
        case .steady(let rate):
            return CheckedTime.adding(now, CheckedTime.nanoseconds(fromNanos: (rng.nextUnit() * (1e9 / rate)).rounded(.down)))
        case let .onOff(_, on, off):
            phase = Int64(rng.nextUnit() * Double(on + off))
            return next(after: now, phase: phase, rng: &rng)
        case .poisson, .ramp:
            return next(after: now, phase: phase, rng: &rng)
        }
    }

    /// When one closed-loop sender starts: within 10 ms of `now`, so a loop does not start as
    /// one burst.
    static func closedLoopStagger(at now: Int64, rng: inout Xoshiro256) -> Int64 {
        now + Int64(rng.nextUnit() * 10_000_000)
    }
}

/// One request's cost: nano-tokens at the client bucket, prompt and completion tokens upstream.
struct RequestCost: Sendable, Equatable {
    var units: Int64
    var prompt: Int32
    var completion: Int32

    /// The cost at the client bucket, in tokens.
    var tokens: Double { TokenUnits.tokens(units) }
}

extension CostModel {
    /// Draws one request's cost.
    func draw(rng: inout Xoshiro256) -> RequestCost {
        switch self {
        case .request:
            return RequestCost(units: TokenUnits.perToken, prompt: 1, completion: 0)
        case .fixed(let x):
            // A cost above every capacity is refused at the client bucket, so neither saturation
            // changes an answer (see `CheckedTime.costUnits`).
            let units = CheckedTime.costUnits(x)
            return RequestCost(units: units, prompt: Int32(clamping: (units + TokenUnits.perToken - 1) / TokenUnits.perToken),
                               completion: 0)
        case .llm(let p):
            let prompt = Int32(Swift.min(1_000_000, Swift.max(1, rng.lognormal(mu: p.promptMu, sigma: p.promptSigma).rounded())))
            let completion = Int32(Swift.min(1_000_000, Swift.max(1, rng.lognormal(mu: p.completionMu, sigma: p.completionSigma).rounded())))
            return RequestCost(units: Int64(prompt + completion) * TokenUnits.perToken, prompt: prompt, completion: completion)
        }
    }

    var streams: Bool { if case .llm = self { return true } else { return false } }
}

extension RetryPolicy {
    /// How long to wait before retry number `attempt + 1` after a 429 (nil: give up):
    /// Retry-After when honoured and at most 60 s, else capped exponential backoff with jitter
    /// U[0.75, 1].
    func delay(attempt n: Int32, retryAfter: Int64?, rng: inout Xoshiro256) -> Int64? {
        switch self {
        case .none:
            return nil
        case let .fixed(d, maxRetries):
            return n < maxRetries ? d : nil
        case let .exponential(maxRetries, base, cap, honour):
            guard n < maxRetries else { return nil }
            if honour, let ra = retryAfter, ra > 0, ra <= 60_000_000_000 { return ra }
            let backoff = Swift.min(Double(base) * Double(1 << Swift.min(Int(n), 30)), Double(cap))
            return Int64(backoff * rng.uniform(0.75, 1))
        }
    }
}
