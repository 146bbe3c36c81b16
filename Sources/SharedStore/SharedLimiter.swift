import Synchronization
import TokenBucket

/// Limits shared by every replica of a service, with a failure policy for when Redis is away.
///
/// ```swift
/// let limiter = SharedLimiter(buckets: RedisBuckets(client: client), policy: .local(replicas: 3),
///                             log: { print($0) })
/// switch try await limiter.acquire([rpm, tpm], maxWait: .seconds(2)) {
/// case .admitted(let permit):
///     // call the model, then settle the real token count:
///     await limiter.reconcile(permit, actual: [1, 1_234])
/// case .limited(let retryAfter): respond429(retryAfter)
/// case .never(let limit): respond429Never(limit)
/// case .unavailable: respond503()
/// }
/// ```
///
/// - `acquire` returns once the request may act: when the store admits it later (within
///   `maxWait`), it sleeps until then. Order is FIFO across replicas (the store's queue).
/// - Every store call is bounded by the ``RedisBuckets/timeout``; a failure (timeout, refused
///   connection, lost connection) applies the policy for that call, logs once when the store
///   goes away and once when it is back, and counts in ``statistics``. Each call tries the
///   store first; the client fails fast during its reconnect backoff, so recovery happens
///   within that backoff of Redis returning.
public final class SharedLimiter: Sendable {
    public let buckets: RedisBuckets
    public let policy: StoreFailurePolicy
    private let log: @Sendable (String) -> Void
    private let observe: @Sendable (SharedStoreEvent) -> Void
    private let local: LocalBuckets?
    private let state = Mutex(Health())
    private let origin = ContinuousClock.now

    private struct Health {
        var failing = false
        var since: ContinuousClock.Instant?
        var statistics = SharedLimiterStatistics()
    }

    /// - Parameters:
    ///   - log: one line when the store goes away and one when it answers again.
    ///   - observe: every failed store call, outage and recovery (for metrics).
    public init(buckets: RedisBuckets, policy: StoreFailurePolicy, log: @escaping @Sendable (String) -> Void = { _ in },
                observe: @escaping @Sendable (SharedStoreEvent) -> Void = { _ in }) {
        self.buckets = buckets
        self.policy = policy
        self.log = log
        self.observe = observe
        if case .local(let replicas) = policy { local = LocalBuckets(replicas: replicas) } else { local = nil }
    }

    /// Counters since start.
    public var statistics: SharedLimiterStatistics { state.withLock { $0.statistics } }
    /// Whether the last store call failed (the policy is in force).
    public var isStoreFailing: Bool { state.withLock { $0.failing } }

    /// Admits a request against all of its limits, waiting up to `maxWait` for its turn.
    /// - Throws: ``SharedStoreError`` for bad costs; `CancellationError` when the task is
    ///   cancelled while waiting (its reservation is then given back).
    public func acquire(_ limits: [SharedLimit], maxWait: Duration) async throws -> SharedDecision {
        try await answer(limits, maxWait: maxWait).decision
    }

    /// ``acquire(_:maxWait:)`` with what the store saw deciding it: the shared level of every
    /// bucket and the limit that decided (for rate-limit headers and dashboards).
    public func answer(_ limits: [SharedLimit], maxWait: Duration) async throws -> SharedAnswer {
        for limit in limits { _ = try RedisBuckets.units(limit) }
        let wait = Self.nanoseconds(maxWait)
        do {
            let report = try await buckets.acquireReporting(limits, maxWait: wait)
            recovered()
            switch report.admission {
            case .never(let limit):
                count { $0.never += 1 }
                return SharedAnswer(decision: .never(limit), levels: report.levels, binding: report.binding)
            case .wouldWait(let at, let now):
                count { $0.limited += 1 }
                return SharedAnswer(decision: .limited(retryAfter: .nanoseconds(at - now)), levels: report.levels,
                                    binding: report.binding)
            case .admitted(var reservation):
                count { $0.admitted += 1 }
                if reservation.wait > 0 {
                    do { try await Task.sleep(for: .nanoseconds(reservation.wait)) } catch {
                        _ = try? await buckets.cancel(&reservation)
                        throw error
                    }
                }
                return SharedAnswer(decision: .admitted(SharedPermit(source: .store(reservation))), levels: report.levels)
            }
        } catch let error as RedisError {
            failed(error)
            return SharedAnswer(decision: try await fallback(limits, maxWait: wait), byPolicy: true)
        }
    }

    /// Tokens in each bucket now, read from the store without changing anything (nil when the
    /// store does not answer: counted as a failure, like any call).
    public func levels(_ limits: [(key: String, configuration: BucketConfiguration)]) async -> [Double]? {
        do {
            let levels = try await buckets.levels(limits)
            recovered()
            return levels
        } catch {
            failed(error)
            return nil
        }
    }

    /// Settles what the request really cost, per limit in the order given to ``acquire``:
    /// the difference from the estimate is refunded or charged. Store failures are counted and
    /// otherwise ignored (the estimate stands).
    public func reconcile(_ permit: SharedPermit, actual: [Double]) async {
        switch permit.source {
        case .unlimited: return
        case .store(let r):
            let deltas = zip(r.parts, actual).map { (limit: $0.limit, tokens: $1 - $0.limit.cost) }
            do { try await buckets.reconcile(deltas); recovered() } catch { failed(error) }
        case .local(let limits, _):
            local?.reconcile(zip(limits, actual).map { (key: $0.key, tokens: $1 - $0.cost) }, at: now())
        }
    }

    /// Gives an admitted request's tokens back before it acted (the client went away), with the
    /// library's cancel rule.
    public func cancel(_ permit: inout SharedPermit) async {
        switch permit.source {
        case .unlimited: return
        case .store(var r):
            do { _ = try await buckets.cancel(&r); recovered() } catch { failed(error) }
            permit.source = .store(r)
        case .local(let limits, var reservations):
            local?.cancel(limits.map(\.key), &reservations, at: now())
            permit.source = .local(limits, reservations)
        }
    }

    // MARK: Failure policy

    private func fallback(_ limits: [SharedLimit], maxWait: Nanoseconds) async throws -> SharedDecision {
        switch policy {
        case .open:
            count { $0.openedByPolicy += 1 }
            return .admitted(SharedPermit(source: .unlimited))
        case .closed:
            count { $0.refusedByPolicy += 1 }
            return .unavailable
        case .local:
            count { $0.localByPolicy += 1 }
            let t = now()
            let (admit, reservations) = local!.acquire(limits, maxWait: maxWait, at: t)
            guard var reservations else { return .limited(retryAfter: .nanoseconds(admit - t)) }
            if admit > t {
                do { try await Task.sleep(for: .nanoseconds(admit - t)) } catch {
                    local!.cancel(limits.map(\.key), &reservations, at: now())
                    throw error
                }
            }
            return .admitted(SharedPermit(source: .local(limits, reservations)))
        }
    }

    private func failed(_ error: any Error) {
        observe(.callFailed)
        let first = state.withLock { h -> Bool in
            h.statistics.storeFailures += 1
            guard !h.failing else { return false }
            h.failing = true
            h.since = .now
            h.statistics.outages += 1
            return true
        }
        if first {
            observe(.outage)
            log("shared store failing (\(error)); on-store-failure \(policy) until it answers again")
        }
    }

    private func recovered() {
        let since = state.withLock { h -> ContinuousClock.Instant? in
            guard h.failing else { return nil }
            h.failing = false
            defer { h.since = nil }
            return h.since ?? .now
        }
        if let since {
            observe(.recovery)
            log("shared store answering again after \(ContinuousClock.now - since); shared limits back in force")
        }
    }

    private func count(_ update: (inout SharedLimiterStatistics) -> Void) {
        state.withLock { update(&$0.statistics) }
    }

    private func now() -> Nanoseconds { Self.nanoseconds(ContinuousClock.now - origin) }

    static func nanoseconds(_ d: Duration) -> Nanoseconds {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

/// What ``SharedLimiter/acquire(_:maxWait:)`` decided.
public enum SharedDecision: Sendable {
    /// Go ahead (the wait, if any, is over). Keep the permit to reconcile or cancel.
    case admitted(SharedPermit)
    /// Over a limit for longer than the allowed wait: retry after this long.
    case limited(retryAfter: Duration)
    /// The cost exceeds this limit's capacity: no wait will ever admit it.
    case never(SharedLimit)
    /// The store is away and the policy is ``StoreFailurePolicy/closed``.
    case unavailable
}

/// A decision with what the store saw while making it.
public struct SharedAnswer: Sendable {
    public var decision: SharedDecision
    /// Tokens in each limit's bucket after the decision, in the order given (negative while
    /// promised ahead of refill); nil when the failure policy decided or the cost never fits.
    public var levels: [Double]?
    /// The index of the limit that refused (the one admitting last, or never); nil otherwise.
    public var binding: Int?
    /// The failure policy decided (the store did not answer).
    public var byPolicy = false

    public init(decision: SharedDecision, levels: [Double]? = nil, binding: Int? = nil, byPolicy: Bool = false) {
        self.decision = decision; self.levels = levels; self.binding = binding; self.byPolicy = byPolicy
    }
}

/// What happened to a ``SharedLimiter``'s store, for metrics.
public enum SharedStoreEvent: Sendable, Hashable {
    /// A store call failed (timeout, refused or lost connection, bad reply).
    case callFailed
    /// The store went from answering to failing: the policy is in force.
    case outage
    /// The store answers again after an outage.
    case recovery
}

/// An admitted request: from the store, from the local fallback, or unlimited (policy open).
public struct SharedPermit: Sendable {
    enum Source: Sendable {
        case store(SharedReservation)
        case local([SharedLimit], [Reservation])
        case unlimited
    }

    var source: Source

    /// Whether the shared store admitted it (rather than the failure policy).
    public var isShared: Bool {
        if case .store = source { return true }
        return false
    }
}

/// Counters of a ``SharedLimiter``, for metrics.
public struct SharedLimiterStatistics: Sendable, Hashable {
    /// Decisions made by the store.
    public var admitted = 0
    public var limited = 0
    public var never = 0
    /// Store calls that failed (each applied the policy, or was dropped for reconcile/cancel).
    public var storeFailures = 0
    /// Times the store went from answering to failing.
    public var outages = 0
    /// Requests decided by the policy: admitted unlimited, refused, or limited locally.
    public var openedByPolicy = 0
    public var refusedByPolicy = 0
    public var localByPolicy = 0
}
