import Synchronization

/// Thread-safe LLM limits on a clock: an ``LLMLimiterState`` behind one lock, with the same
/// waiting as ``Bucket``.
///
/// ```swift
/// let limiter = LLMLimiter(try ProviderPreset.named("anthropic-sonnet-tier1").limits)
/// let request = try LLMRequest(promptTokens: 3_000, maxOutputTokens: 1_000)
/// let admitted = try await limiter.acquire(request, timeout: .seconds(30))
/// do {
///     let response = try await callModel()
///     try limiter.reconcile(admitted, inputTokens: response.inputTokens, outputTokens: response.outputTokens)
/// } catch {
///     limiter.refund(admitted)     // the call failed: give the estimate back
///     throw error
/// }
/// ```
///
/// ## Waiting
/// ``acquire(_:timeout:)`` reserves the estimate in every dimension at once, admitted at the
/// first instant all of them admit it, and waits exactly as ``Bucket/acquire(_:)`` does: one
/// FIFO queue for all dimensions together and one timer; cancelling a waiter anywhere in the
/// queue throws `CancellationError` and gives its tokens back in every dimension, exactly,
/// and the waiters behind it move up; a deadline fails at once, taking nothing;
/// ``reconfigure(_:)``, ``reconcile(_:inputTokens:outputTokens:)`` and ``refund(_:requestReachedProvider:)``
/// re-plan the waiters in order.
///
/// - Complexity: ``tryAcquire(_:)`` and an `acquire` that need not wait are O(dimensions)
///   under one lock; a waiting `acquire` adds one queue entry and one suspension; cancelling
///   is O(log waiters) plus one coalesced re-plan per burst; ``reconcile(_:inputTokens:outputTokens:)``,
///   ``refund(_:requestReachedProvider:)`` and ``reconfigure(_:)`` re-plan every waiter,
///   O(waiters) each (about 50 ns a waiter), so that a refund moves the queue up at once.
public final class LLMLimiter: Sendable {
    let engine: WaitEngine<SingleQueueCore<LLMLimiterState>>

    /// A limiter with full buckets, timed on `clock`.
    public init<C: Clock>(_ limits: LLMLimits, clock: C = ContinuousClock()) where C.Duration == Duration {
        engine = WaitEngine(SingleQueueCore(ledger: LLMLimiterState(limits)), time: TimeSource(clock))
    }

    /// Nanoseconds on this limiter's clock since it was made (the time base of reservations).
    public var now: Nanoseconds { engine.time.now() }

    /// Admits `request` now if every dimension has its estimate and nobody waits; never waits.
    public func tryAcquire(_ request: LLMRequest) throws -> LLMReservation? {
        let t = engine.time.now()
        return try engine.withCore { try $0.ledger.tryAcquire(request, at: t) }
    }

    /// Waits until every dimension admits `request`, first come, first served.
    /// - Parameter timeout: when given, fails at once with
    ///   ``BucketError/deadlineExceeded(wouldAdmitAfter:allowed:)``, taking nothing, if the
    ///   admission would come later than that.
    /// - Returns: the reservation: settle it with ``reconcile(_:inputTokens:outputTokens:)``
    ///   once the response says what it used, or ``refund(_:requestReachedProvider:)`` when
    ///   the call fails. Settle it once.
    /// - Throws: ``BucketError`` for an estimate above a dimension's capacity;
    ///   `CancellationError` if cancelled while waiting (its tokens given back).
    public func acquire(_ request: LLMRequest, timeout: Duration? = nil) async throws -> LLMReservation {
        if let timeout { try TimeSource.checkTimeout(timeout) }
        let deadline = timeout.map { engine.time.now() + TimeSource.nanoseconds($0) }
        return try await engine.acquire(request, in: .only, deadline: deadline).hold
    }

    /// Settles a reservation with real usage (see ``LLMLimiterState/reconcile(_:inputTokens:outputTokens:at:)``);
    /// waiters are re-planned (they move up by what was given back).
    @discardableResult
    public func reconcile(_ reservation: LLMReservation, inputTokens: Int, outputTokens: Int) throws -> [LLMDimension: Double] {
        try engine.replan(nil) { s, t in
            try s.reconcile(reservation, inputTokens: inputTokens, outputTokens: outputTokens, at: t)
        }
    }

    /// Gives back the estimate of a reservation whose call failed: every token dimension gets
    /// its estimate back (capped at capacity). The request itself (requests per minute and per
    /// day) is given back too only when `requestReachedProvider` is false: a call the provider
    /// answered, even with an error, counted against its request limits.
    /// - Returns: tokens given back per dimension.
    @discardableResult
    public func refund(_ reservation: LLMReservation, requestReachedProvider: Bool = true) -> [LLMDimension: Double] {
        engine.replan(nil) { s, t in s.refund(reservation, includingRequest: !requestReachedProvider, at: t) }
    }

    /// Changes the limits now (see ``LLMLimiterState/reconfigure(_:at:)``); waiting tasks are
    /// re-planned at the new rates, in order (a waiter above a new capacity fails).
    public func reconfigure(_ limits: LLMLimits) {
        engine.replan(nil) { s, t in s.reconfigure(limits, at: t) }
    }

    /// The limits now.
    public var limits: LLMLimits { engine.withCore { $0.ledger.limits } }

    /// Tokens available per limited dimension now.
    public func available() -> [LLMDimension: Double] {
        engine.read(.only) { _, s, t in s.available(at: t) }
    }

    /// Tasks waiting in ``acquire(_:timeout:)``.
    public var waiters: Int { engine.read(.only) { q, _, _ in q.count } }
}
