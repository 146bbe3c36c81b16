/// Requests-per-minute and tokens-per-minute limits (and input/output token limits, and
/// requests per day) checked together, all or nothing, as a value whose every operation takes
/// the time. ``LLMLimiter`` is the thread-safe, waiting form.
///
/// A call reserves its estimate up front (1 request; prompt + max_tokens tokens; prompt input
/// tokens; max_tokens output tokens) and, once the response says what it really used,
/// ``reconcile(_:inputTokens:outputTokens:at:)`` refunds the difference or charges the excess.
///
/// ```swift
/// let preset = ProviderPreset.named("OpenAI gpt-4o Tier 1")!
/// var limiter = LLMLimiterState(preset.limits)
/// let request = try LLMRequest(promptTokens: 1_200, maxOutputTokens: 800)
/// let r = try limiter.reserve(request, at: now)          // act at r.admitAt
/// // ... call the model; the response used 1,200 in and 150 out:
/// try limiter.reconcile(r, inputTokens: 1_200, outputTokens: 150, at: later)   // 650 tokens back
/// ```
///
/// - Admission: a request is admitted at the first instant every limited dimension admits its
///   cost, and takes from each as of that instant (never from some and not others).
/// - A cost of 0 in a dimension (an empty prompt with an input limit) takes nothing there.
/// - Complexity: O(dimensions) = O(1) per operation.
public struct LLMLimiterState: Sendable {
    /// The client buckets' configurations.
    public private(set) var limits: LLMLimits
    @usableFromInline var buckets: [LLMDimension: BucketState]

    /// Full buckets for every limited dimension.
    public init(_ limits: LLMLimits) {
        self.limits = limits
        var b: [LLMDimension: BucketState] = [:]
        for d in limits.dimensions { b[d] = BucketState(limits[d]!) }
        buckets = b
    }

    /// Takes the request's estimate from every dimension if all have it now; otherwise nothing.
    /// - Returns: the reservation (admitted now), or `nil` when it would have to wait.
    /// - Throws: ``BucketError/costExceedsCapacity(cost:capacity:)`` when the estimate is more
    ///   than a dimension can ever hold.
    public mutating func tryAcquire(_ request: LLMRequest, at now: Nanoseconds) throws -> LLMReservation? {
        let costs = try validatedCosts(request)
        for (d, c) in costs where buckets[d]!.admissionTime(units: c, at: now) > Swift.max(now, buckets[d]!.lastSeenTime) {
            return nil
        }
        var parts: [LLMDimension: Reservation] = [:]
        for (d, c) in costs {
            let t = Swift.max(now, buckets[d]!.lastSeenTime)
            parts[d] = buckets[d]!.reserve(units: c, at: now, notBefore: t)
        }
        let at = parts.values.map(\.admitAt).max() ?? now
        return LLMReservation(request: request, requestedAt: now, admitAt: at, parts: parts)
    }

    /// Reserves the request's estimate in every dimension, admitted at the first instant all
    /// of them admit it; later requests queue behind it (FIFO).
    /// - Throws: as ``tryAcquire(_:at:)``.
    public mutating func reserve(_ request: LLMRequest, at now: Nanoseconds) throws -> LLMReservation {
        reserve(request, costs: try validatedCosts(request), at: now, notBefore: .min)
    }

    /// ``reserve(_:at:)`` for costs already validated, admitted no earlier than `notBefore`.
    mutating func reserve(_ request: LLMRequest, costs: [(LLMDimension, Int64)], at now: Nanoseconds,
                          notBefore: Nanoseconds) -> LLMReservation {
        let admit = admissionTime(costs: costs, at: now, notBefore: notBefore)
        var parts: [LLMDimension: Reservation] = [:]
        for (d, c) in costs { parts[d] = buckets[d]!.reserve(units: c, at: now, notBefore: admit) }
        return LLMReservation(request: request, requestedAt: Swift.max(now, timeFloor), admitAt: admit, parts: parts)
    }

    /// When ``reserve(_:at:)`` would admit `request` at `now`, without reserving.
    public func admissionTime(for request: LLMRequest, at now: Nanoseconds) throws -> Nanoseconds {
        admissionTime(costs: try validatedCosts(request), at: now, notBefore: .min)
    }

    func admissionTime(costs: [(LLMDimension, Int64)], at now: Nanoseconds, notBefore: Nanoseconds) -> Nanoseconds {
        var admit = Swift.max(now, notBefore)
        for (d, c) in costs { admit = Swift.max(admit, buckets[d]!.admissionTime(units: c, at: now, notBefore: notBefore)) }
        return admit
    }

    /// Rolls back a reservation exactly when it is the latest in every dimension it took from
    /// (see ``BucketState/rollBackTail(_:)``); otherwise changes nothing and returns false.
    mutating func rollBackTail(_ reservation: inout LLMReservation) -> Bool {
        for (d, r) in reservation.parts {
            guard let b = buckets[d], b.isTail(r) else { return false }
        }
        for d in Array(reservation.parts.keys) { _ = buckets[d]!.rollBackTail(&reservation.parts[d]!) }
        return true
    }

    /// Gives a reservation back before its admission (per dimension as
    /// ``BucketState/cancel(_:at:)``: in full when it is the latest there). Zeroes it.
    /// - Returns: tokens given back per dimension.
    @discardableResult
    public mutating func cancel(_ reservation: inout LLMReservation, at now: Nanoseconds) -> [LLMDimension: Double] {
        var back: [LLMDimension: Double] = [:]
        for d in reservation.parts.keys {
            back[d] = buckets[d]?.cancel(&reservation.parts[d]!, at: now) ?? 0
        }
        return back
    }

    /// Settles a reservation with what the call really used: each token dimension gets back
    /// what the estimate overstated (capped at capacity) or is charged what it understated
    /// (even into debt, which later requests wait out).
    ///
    /// - Returns: the adjustment per dimension, in tokens: negative = refunded, positive = charged.
    /// - Throws: ``BucketError/invalidParameter(name:value:requirement:)`` for negative usage.
    @discardableResult
    public mutating func reconcile(_ reservation: LLMReservation, inputTokens: Int, outputTokens: Int,
                                   at now: Nanoseconds) throws -> [LLMDimension: Double] {
        guard inputTokens >= 0 else {
            throw BucketError.invalidParameter(name: "inputTokens", value: Double(inputTokens), requirement: ">= 0")
        }
        guard outputTokens >= 0 else {
            throw BucketError.invalidParameter(name: "outputTokens", value: Double(outputTokens), requirement: ">= 0")
        }
        let request = reservation.request
        let actual: [LLMDimension: Int] = [
            .tokens: inputTokens + outputTokens,
            .inputTokens: inputTokens,
            .outputTokens: outputTokens,
        ]
        var adjustments: [LLMDimension: Double] = [:]
        for (d, used) in actual where buckets[d] != nil {
            let estimated = Int(request.cost(in: d))
            let delta = used - estimated
            if delta < 0 {
                try buckets[d]!.refund(Double(-delta), at: now)
            } else if delta > 0 {
                try buckets[d]!.charge(Double(delta), at: now)
            }
            adjustments[d] = Double(delta)
        }
        return adjustments
    }

    /// Gives back the estimate of a reservation whose call failed: each token dimension its
    /// estimate (capped at capacity), and the request dimensions (per minute, per day) their
    /// 1 only when `includingRequest`.
    /// - Returns: tokens given back per dimension.
    @discardableResult
    public mutating func refund(_ reservation: LLMReservation, includingRequest: Bool, at now: Nanoseconds) -> [LLMDimension: Double] {
        var back: [LLMDimension: Double] = [:]
        for d in limits.dimensions where includingRequest || (d != .requests && d != .requestsPerDay) {
            let cost = reservation.request.cost(in: d)
            guard cost > 0 else { continue }
            try? buckets[d]!.refund(cost, at: now)
            back[d] = cost
        }
        return back
    }

    /// Changes the limits at `now`; each dimension keeps its level (capped), new dimensions
    /// start full, dropped ones are forgotten.
    public mutating func reconfigure(_ limits: LLMLimits, at now: Nanoseconds) {
        var b: [LLMDimension: BucketState] = [:]
        for d in limits.dimensions {
            if var existing = buckets[d] {
                existing.reconfigure(limits[d]!, at: now)
                b[d] = existing
            } else {
                b[d] = BucketState(limits[d]!)
            }
        }
        buckets = b
        self.limits = limits
    }

    /// Tokens available per limited dimension at `now`.
    public func available(at now: Nanoseconds) -> [LLMDimension: Double] {
        buckets.mapValues { $0.tokens(at: now) }
    }

    /// The bucket of one dimension, for read-outs.
    public func bucket(_ dimension: LLMDimension) -> BucketState? { buckets[dimension] }

    /// Costs per limited dimension in nano-tokens (dimensions where it costs 0 are skipped),
    /// each checked against that dimension's capacity.
    func validatedCosts(_ request: LLMRequest) throws -> [(LLMDimension, Int64)] {
        var costs: [(LLMDimension, Int64)] = []
        for d in limits.dimensions {
            let cost = request.cost(in: d)
            guard cost > 0 else { continue }
            costs.append((d, try buckets[d]!.units(for: cost)))
        }
        return costs
    }
}

/// A request admitted (now or later) by an LLM limiter: keep it to reconcile real usage.
///
/// ```swift
/// let r = try limiter.reserve(request, at: now)       // act at r.admitAt
/// try limiter.reconcile(r, inputTokens: 1_180, outputTokens: 96, at: later)
/// ```
public struct LLMReservation: Sendable, Hashable {
    /// The request as estimated.
    public let request: LLMRequest
    public let requestedAt: Nanoseconds
    /// When every dimension admits it: the caller may call the model from then on.
    public let admitAt: Nanoseconds
    /// The reservation in each dimension it took from.
    public internal(set) var parts: [LLMDimension: Reservation]

    /// How long the caller waits.
    public var wait: Nanoseconds { admitAt - requestedAt }
}
