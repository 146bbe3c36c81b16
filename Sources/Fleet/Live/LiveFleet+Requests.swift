import TokenBucket

// Senders and requests: when clients send, and one request's life from the client-side bucket
// through the provider (429s and retries) to its answer. Mirrors `SimCore+Clients.swift`,
// `SimCore+Limiter.swift` and `SimCore+Upstream.swift`, with real tasks on a real clock.
extension LiveFleet {
    enum Outcome: Equatable { case completed, refused, failed, cancelled }

    // MARK: Senders

    /// Starts the senders of client `c` from now: its open-loop schedule, or the closed-loop
    /// senders it is missing.
    func startSenders(_ c: Int) {
        let now = Swift.max(0, clock.now())   // at time zero when the fleet starts
        let arrival = clients[c].arrival
        if case let .closedLoop(n, _) = arrival {
            let starts: [Int64] = book.withLock { b in
                guard b.enabled[c] else { return [] }
                let missing = n - b.senders[c]
                guard missing > 0 else { return [] }
                b.senders[c] += missing
                return (0..<missing).map { _ in Arrival.closedLoopStagger(at: now, rng: &b.rng[c]) }
            }
            for t in starts { spawn { [self] in await closedLoopSender(c, startAt: t) } }
            return
        }
        let first: (Int64, Int64, UInt32)? = book.withLock { b in
            guard b.enabled[c] else { return nil }
            var phase: Int64 = 0
            return arrival.firstArrival(at: now, rng: &b.rng[c], phase: &phase).map { ($0, phase, b.epoch[c]) }
        }
        if let (t, phase, epoch) = first { spawn { [self] in await openLoopSender(c, first: t, phase: phase, epoch: epoch) } }
    }

    /// Sleeps until each arrival and starts a request task for it, until the client is turned
    /// off (its epoch moves on) or the fleet stops.
    private func openLoopSender(_ c: Int, first: Int64, phase: Int64, epoch: UInt32) async {
        let arrival = clients[c].arrival
        let costModel = clients[c].cost
        var t = first
        while true {
            do { try await clock.sleep(until: t) } catch { return }
            if gate.isPaused {
                await gate.pass()
                if Task.isCancelled { return }
                // Arrivals due while paused are dropped; the schedule restarts from now.
                let now = clock.now()
                guard let next = book.withLock({ b in arrival.next(after: now, phase: phase, rng: &b.rng[c]) }) else { return }
                t = next
                continue
            }
            let draw: (RequestCost, Int64?)? = book.withLock { b in
                guard b.enabled[c], b.epoch[c] == epoch else { return nil }
                let cost = costModel.draw(rng: &b.rng[c])
                return (cost, arrival.next(after: t, phase: phase, rng: &b.rng[c]))
            }
            guard let (cost, next) = draw else { return }
            spawn { [self] in _ = await send(c, cost) }
            guard let next else { return }
            t = next
        }
    }

    /// One closed-loop sender: sends, waits for the outcome, thinks (at least 1 ms after a
    /// refusal or failure, so a refused loop cannot spin), sends again; stops when its client
    /// is turned off or the fleet stops.
    private func closedLoopSender(_ c: Int, startAt: Int64) async {
        guard case let .closedLoop(_, think) = clients[c].arrival else { return }
        var alive = true
        defer { if alive { book.withLock { $0.senders[c] -= 1 } } }
        let costModel = clients[c].cost
        do { try await clock.sleep(until: startAt) } catch { return }
        while true {
            await gate.pass()
            if Task.isCancelled { return }
            let cost: RequestCost? = book.withLock { b in
                guard b.enabled[c] else { b.senders[c] -= 1; return nil }
                return costModel.draw(rng: &b.rng[c])
            }
            guard let cost else { alive = false; return }
            let outcome = await send(c, cost)
            if outcome == .cancelled { return }
            let pause = outcome == .completed ? think : Swift.max(think, SimCore.oneMillisecond)
            if pause > 0 {
                do { try await clock.sleep(until: clock.now() + pause) } catch { return }
            }
        }
    }

    // MARK: One request

    /// One request from its first arrival at the limiter to its outcome, retries included.
    ///
    /// Metrics count what happens up to ``cutoff``: an attempt arriving after it is not counted
    /// at all; one counted but not admitted (by the bucket's admission instant) or not answered
    /// by then stays counted as waiting or in flight.
    func send(_ c: Int, _ cost: RequestCost) async -> Outcome {
        let client = clients[c]
        let first = clock.now()
        let deadline = client.deadline.map { first + $0 } ?? .max
        var attempt: Int32 = 0
        while true {
            let key: LiveKey
            let counted: Bool
            switch await passLimiter(c, cost, deadline: deadline) {
            case let .admitted(k, inWindow): key = k; counted = inWindow
            case .refused: return .refused
            case .cancelled: return .cancelled
            }
            let now = clock.now()
            let answer = book.withLock { b in
                b.windowRequests &+= 1
                let a = b.upstream.call(cost, streams: client.cost.streams, at: now)
                let tokens = Double(cost.prompt + cost.completion)
                if case .answered = a {
                    if counted {
                        b.metrics.upstreamAnswered(key: key.metricsKey, group: client.group, tokens: tokens, status429: false, at: now)
                        b.metrics.upstreamInFlight(1)
                    }
                } else {
                    b.window429 &+= 1
                    if counted {
                        b.metrics.upstreamAnswered(key: key.metricsKey, group: client.group, tokens: tokens, status429: true, at: now)
                    }
                }
                return a
            }
            switch answer {
            case .answered(let latency):
                do { try await clock.sleep(until: now + latency) } catch { return .cancelled }
                if counted && now + latency <= cutoff {
                    book.withLock { b in
                        b.metrics.upstreamInFlight(-1)
                        b.completed &+= 1
                    }
                }
                return .completed
            case .tooManyRequests(let retryAfter):
                let delay = book.withLock { b in client.retry.delay(attempt: attempt, retryAfter: retryAfter, rng: &b.rng[c]) }
                guard let d = delay, deadline == .max || now + d <= deadline else {
                    if counted { book.withLock { $0.failed &+= 1 } }
                    return .failed
                }
                attempt += 1
                do { try await clock.sleep(until: now + d) } catch { return .cancelled }
            }
        }
    }

    enum Pass {
        /// Admitted by `key` (and its parent); `inWindow`: counted in the metrics.
        case admitted(LiveKey, inWindow: Bool)
        case refused
        case cancelled
    }

    /// The client-side limiter: the key's bucket, then (hierarchical keying) its parent's, each
    /// through the library's async `acquire` with the request's deadline.
    private func passLimiter(_ c: Int, _ cost: RequestCost, deadline: Int64) async -> Pass {
        let g = clients[c].group
        let counted = clock.now() <= cutoff
        let key = book.withLock { b in
            let k = b.table.keys[b.table.clientKey[c]]
            if counted {
                b.metrics.arrived(key: k.metricsKey, group: g)
                b.metrics.enqueued(key: k.metricsKey)
            }
            return k
        }
        let mk = key.metricsKey
        let admission: Admission
        switch await acquire(key, cost, deadline: deadline) {
        case .cancelled:
            return .cancelled
        case .refused(let afterReplan):
            let now = clock.now()
            guard counted, !afterReplan || now <= cutoff else { return .refused }
            book.withLock { b in
                if afterReplan {
                    b.metrics.timedOut(key: mk, group: g, wasQueued: true)
                } else {
                    b.metrics.dequeued(key: mk)
                    b.metrics.rejected(key: mk, group: g)
                }
            }
            return .refused
        case .admitted(let a):
            admission = a
        }
        let childAt = key.admittedAt(admission)
        guard let parent = key.parent else {
            let now = clock.now()
            let inWindow = counted && childAt <= cutoff
            if inWindow {
                book.withLock { b in
                    b.metrics.admitted(key: mk, group: g, wait: LiveClock.nanoseconds(admission.wait), at: now, wasQueued: true)
                    if !admission.isImmediate { b.lateness.record(LiveClock.nanoseconds(admission.lateness)) }
                }
            }
            return .admitted(key, inWindow: inWindow)
        }
        // Hierarchical: the parent is reserved only from the instant the user's bucket admits.
        let pmk = parent.metricsKey
        let parentCounted = counted && childAt <= cutoff
        if parentCounted {
            book.withLock { b in
                b.metrics.arrived(key: pmk, group: -1)
                b.metrics.enqueued(key: pmk)
            }
        }
        switch await acquire(parent, cost, deadline: deadline) {
        case .cancelled:
            return .cancelled
        case .refused(let afterReplan):
            guard parentCounted, clock.now() <= cutoff || !afterReplan else { return .refused }
            book.withLock { b in
                if afterReplan {
                    b.metrics.timedOut(key: pmk, group: -1, wasQueued: true)
                } else {
                    b.metrics.dequeued(key: pmk)
                    b.metrics.rejected(key: pmk, group: -1)
                }
                b.metrics.timedOut(key: mk, group: g, wasQueued: true)
            }
            return .refused
        case .admitted(let p):
            let now = clock.now()
            let admitted = parent.admittedAt(p)
            let inWindow = parentCounted && admitted <= cutoff
            if inWindow {
                // The user's wait is its own bucket's plus its parent's (not the few microseconds
                // the task runs between the two, nor how late it resumed in between).
                let wait = LiveClock.nanoseconds(admission.wait + p.wait)
                book.withLock { b in
                    b.metrics.admitted(key: pmk, group: -1, wait: LiveClock.nanoseconds(p.wait), at: now, wasQueued: true)
                    b.metrics.admitted(key: mk, group: g, wait: wait, at: now, wasQueued: true)
                    if !admission.isImmediate { b.lateness.record(LiveClock.nanoseconds(admission.lateness)) }
                    if !p.isImmediate { b.lateness.record(LiveClock.nanoseconds(p.lateness)) }
                }
            }
            return .admitted(key, inWindow: inWindow)
        }
    }

    enum Acquired { case admitted(Admission), refused(afterReplan: Bool), cancelled }

    /// `acquire` on one bucket, with the deadline when the client has one.
    private func acquire(_ key: LiveKey, _ cost: RequestCost, deadline: Int64) async -> Acquired {
        let replans = key.replans.load(ordering: .sequentiallyConsistent)
        let entry = key.enter()
        defer { key.leave(entry) }
        do {
            let a = deadline == .max
                ? try await key.bucket.acquire(cost.tokens)
                : try await key.bucket.acquire(cost.tokens, deadline: clock.instant(deadline))
            key.record(a, units: cost.units)
            return .admitted(a)
        } catch is CancellationError {
            return .cancelled
        } catch {
            // deadlineExceeded or costExceedsCapacity: at once, or after a re-plan.
            return .refused(afterReplan: key.replans.load(ordering: .sequentiallyConsistent) != replans)
        }
    }
}
