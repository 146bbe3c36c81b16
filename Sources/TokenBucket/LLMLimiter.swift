import Synchronization

/// Thread-safe LLM limits on a clock: an ``LLMLimiterState`` behind one lock, with waiting.
///
/// ```swift
/// let limiter = LLMLimiter(ProviderPreset.named("Anthropic Sonnet 4.x Tier 1")!.limits)
/// let request = try LLMRequest(promptTokens: 3_000, maxOutputTokens: 1_000)
/// let admitted = try await limiter.acquire(request, timeout: .seconds(30))
/// let response = try await callModel()
/// try limiter.reconcile(admitted, inputTokens: response.inputTokens, outputTokens: response.outputTokens)
/// ```
///
/// ``acquire(_:timeout:)`` reserves at once in every dimension (so callers are served first
/// come, first served) and sleeps on the clock until the admission instant. Cancelled while
/// waiting, it throws `CancellationError` and gives the reservation back as
/// ``LLMLimiterState/cancel(_:at:)`` does (in full where it is the latest reservation).
public final class LLMLimiter: Sendable {
    let state: Mutex<LLMLimiterState>
    let time: TimeSource

    /// A limiter with full buckets, timed on `clock`.
    public init<C: Clock>(_ limits: LLMLimits, clock: C = ContinuousClock()) where C.Duration == Duration {
        state = Mutex(LLMLimiterState(limits))
        time = TimeSource(clock)
    }

    /// Nanoseconds on this limiter's clock since it was made (the time base of reservations).
    public var now: Nanoseconds { time.now() }

    /// Admits `request` now if every dimension has its estimate; never waits.
    public func tryAcquire(_ request: LLMRequest) throws -> LLMReservation? {
        let t = time.now()
        return try state.withLock { try $0.tryAcquire(request, at: t) }
    }

    /// Waits until every dimension admits `request`, FIFO.
    /// - Parameter timeout: when given, fails at once with
    ///   ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``, taking nothing, if the
    ///   admission would come later than that.
    /// - Throws: ``BucketError`` for an estimate above a dimension's capacity;
    ///   `CancellationError` if cancelled while waiting.
    public func acquire(_ request: LLMRequest, timeout: Duration? = nil) async throws -> LLMReservation {
        try Task.checkCancellation()
        if let timeout, timeout < .zero {
            throw BucketError.invalidParameter(name: "timeout", value: Double(TimeSource.nanoseconds(timeout)) / 1e9, requirement: ">= 0 seconds")
        }
        let t = time.now()
        var reservation = try state.withLock { s throws -> LLMReservation in
            if let timeout {
                let admit = try s.admissionTime(for: request, at: t)
                if admit - t > TimeSource.nanoseconds(timeout) {
                    throw BucketError.deadlineExceeded(wouldAdmitAfter: .nanoseconds(admit - t), allowed: timeout)
                }
            }
            return try s.reserve(request, at: t)
        }
        if reservation.admitAt > reservation.requestedAt {
            do {
                try await time.sleepUntil(reservation.admitAt)
            } catch {
                let now = time.now()
                var r = reservation
                state.withLock { _ = $0.cancel(&r, at: now) }
                reservation = r
                throw CancellationError()
            }
        }
        return reservation
    }

    /// Settles a reservation with real usage (see ``LLMLimiterState/reconcile(_:inputTokens:outputTokens:at:)``).
    @discardableResult
    public func reconcile(_ reservation: LLMReservation, inputTokens: Int, outputTokens: Int) throws -> [LLMDimension: Double] {
        let t = time.now()
        return try state.withLock { try $0.reconcile(reservation, inputTokens: inputTokens, outputTokens: outputTokens, at: t) }
    }

    /// Changes the limits now (see ``LLMLimiterState/reconfigure(_:at:)``).
    public func reconfigure(_ limits: LLMLimits) {
        let t = time.now()
        state.withLock { $0.reconfigure(limits, at: t) }
    }

    /// Tokens available per limited dimension now.
    public func available() -> [LLMDimension: Double] {
        let t = time.now()
        return state.withLock { $0.available(at: t) }
    }
}
