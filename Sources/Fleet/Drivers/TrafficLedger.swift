import Synchronization
import TokenBucket

/// The fleet of a driver fed by real requests: records what a ``FleetTraffic`` caller reports
/// into ``FleetMetrics`` on a `Clock`, and shows it as a ``FleetDriver`` (snapshot, report), so
/// a dashboard or a report reads a gateway exactly as it reads the simulator.
///
/// ```swift
/// let ledger = TrafficLedger(name: "serve", keying: .perTenant, clock: ContinuousClock(),
///                            upstream: UpstreamSpec(name: "openai"), steer: { try gateway.apply($0) })
/// let t = ledger.arrived(key: "acme", group: "acme", cost: 1)
/// ledger.admitted(t)
/// ledger.snapshot().keys[0].admitted   // 1
/// ```
/// Commands (``apply(_:)``) go to `steer`: the gateway owns its limiters and changes them; it
/// reports the new configuration back with ``keyConfigured(_:capacity:refillPerSecond:tokens:)``.
///
/// Parent buckets (hierarchical keying): given a `parent` lookup, each key's snapshot names
/// the parent bucket its requests pass too (``KeySnapshot/parent``), and each parent is a row
/// of its own, as the simulator shows `tenant:acme` above its users. A gateway admits a request
/// at its key and its parent together, so a parent row counts every request of its keys (their
/// waits, admissions and refusals; not the groups' totals again), and the gateway reports its
/// level with ``parentConfigured(_:capacity:refillPerSecond:tokens:)``.
public final class TrafficLedger<C: Clock>: FleetTraffic, FleetDriver, Sendable where C.Duration == Duration {
    public var mode: FleetMode { .live }
    public let scenarioName: String
    public let clock: C
    public let startedAt: C.Instant
    private let steer: @Sendable (FleetCommand) throws -> Void
    private let parent: (@Sendable (_ key: String, _ group: String) -> String?)?

    private struct Request: Sendable {
        var key: Int
        /// The parent row it is counted on too, if any.
        var parent: Int?
        var group: Int
        var arrivedAt: Nanoseconds
        var queued = false
        var admitted = false
        var tokens: Double
    }

    private struct Bucket: Sendable {
        var capacity = 0.0, refill = 0.0, tokens = 0.0
    }

    private struct State: Sendable {
        var metrics = FleetMetrics()
        var keyIndex: [String: Int] = [:]
        /// Rows of parent buckets, by name (apart from the keys': requests never name a parent).
        var parentIndex: [String: Int] = [:]
        var parentRows: Set<Int> = []
        /// Each parent's level as last configured, by name (one per tenant seen).
        var parentLevels: [String: Bucket] = [:]
        var groupIndex: [String: Int] = [:]
        var buckets: [Bucket] = []
        var open: [UInt64: Request] = [:]
        var nextID: UInt64 = 0
        var keying: Keying
        var upstream: UpstreamSpec
        var lastChange: ChangeNote?
        var completed = 0
        var failed = 0

        /// The row of parent bucket `name`, registered on first sight in its first key's group
        /// (charted like keys: the first few hundred; a flood of unlisted keys, each its own
        /// tenant, must not chart them all).
        mutating func parentRow(_ name: String, group: String, at t: Nanoseconds) -> Int {
            if let p = parentIndex[name] { return p }
            let b = parentLevels[name] ?? Bucket()
            let p = metrics.addKey(name, group: group, capacity: b.capacity, refillPerSecond: b.refill, at: t,
                                   series: parentIndex.count < FleetCore.chartedKeys)
            parentIndex[name] = p
            parentRows.insert(p)
            buckets.append(b)
            return p
        }
    }

    private let state: Mutex<State>

    /// - Parameter parent: the parent bucket of a key (from the key and its group) under the
    ///   current keying, nil for none; asked at each arrival and, for every key, at each
    ///   snapshot (so a keying change re-parents the rows), never under the ledger's lock.
    public init(name: String, keying: Keying, clock: C, upstream: UpstreamSpec = UpstreamSpec(),
                steer: @escaping @Sendable (FleetCommand) throws -> Void = { _ in throw FleetError.invalid("this fleet takes no commands") },
                parent: (@Sendable (_ key: String, _ group: String) -> String?)? = nil) {
        scenarioName = name
        self.clock = clock
        startedAt = clock.now
        self.steer = steer
        self.parent = parent
        state = Mutex(State(keying: keying, upstream: upstream))
    }

    /// Time since the ledger was made, ns.
    public var now: Nanoseconds {
        let d = startedAt.duration(to: clock.now)
        return Nanoseconds(truncatingIfNeeded: d.components.seconds) &* 1_000_000_000 &+ Nanoseconds(d.components.attoseconds / 1_000_000_000)
    }

    // MARK: FleetTraffic

    public func arrived(key: String, group: String, cost: Double) -> TrafficTicket {
        let t = now
        let parentName = parent?(key, group)
        return state.withLock { s in
            let g = s.groupIndex[group] ?? {
                let g = s.metrics.addGroup(group, clients: 0)
                s.groupIndex[group] = g
                return g
            }()
            let k = s.keyIndex[key] ?? {
                let k = s.metrics.addKey(key, group: group, capacity: 0, refillPerSecond: 0, at: t,
                                         series: s.keyIndex.count < FleetCore.chartedKeys)
                s.keyIndex[key] = k
                s.buckets.append(Bucket())
                return k
            }()
            s.metrics.arrived(key: k, group: g)
            let p = parentName.map { s.parentRow($0, group: group, at: t) }
            if let p { s.metrics.arrived(key: p, group: -1) }
            s.nextID &+= 1
            s.open[s.nextID] = Request(key: k, parent: p, group: g, arrivedAt: t, tokens: cost)
            return TrafficTicket(id: s.nextID)
        }
    }

    public func waiting(_ ticket: TrafficTicket) {
        state.withLock { s in
            guard var r = s.open[ticket.id], !r.queued, !r.admitted else { return }
            r.queued = true
            s.open[ticket.id] = r
            s.metrics.enqueued(key: r.key)
            if let p = r.parent { s.metrics.enqueued(key: p) }
        }
    }

    public func admitted(_ ticket: TrafficTicket) {
        let t = now
        state.withLock { s in
            guard var r = s.open[ticket.id], !r.admitted else { return }
            r.admitted = true
            s.open[ticket.id] = r
            s.metrics.admitted(key: r.key, group: r.group, wait: t - r.arrivedAt, at: t, wasQueued: r.queued)
            if let p = r.parent { s.metrics.admitted(key: p, group: -1, wait: t - r.arrivedAt, at: t, wasQueued: r.queued) }
        }
    }

    public func refused(_ ticket: TrafficTicket, afterWaiting: Bool) {
        state.withLock { s in
            guard let r = s.open.removeValue(forKey: ticket.id), !r.admitted else { return }
            func refuse(_ k: Int, group g: Int) {
                if afterWaiting {
                    s.metrics.timedOut(key: k, group: g, wasQueued: r.queued)
                } else {
                    if r.queued { s.metrics.dequeued(key: k) }
                    s.metrics.rejected(key: k, group: g)
                }
            }
            refuse(r.key, group: r.group)
            if let p = r.parent { refuse(p, group: -1) }
        }
    }

    public func upstreamAnswered(_ ticket: TrafficTicket, status: Int, tokens: Double) {
        let t = now
        state.withLock { s in
            guard let r = s.open[ticket.id] else { return }
            s.metrics.upstreamAnswered(key: r.key, group: r.group, tokens: tokens, status429: status == 429, at: t)
            if (200..<300).contains(status) { s.metrics.upstreamInFlight(1) }
        }
    }

    public func used(_ ticket: TrafficTicket, tokens: Double) {
        let t = now
        state.withLock { s in
            guard s.open[ticket.id] != nil else { return }
            s.metrics.upstreamUsed(tokens: tokens, at: t)
        }
    }

    public func completed(_ ticket: TrafficTicket, failed: Bool) {
        state.withLock { s in
            guard s.open.removeValue(forKey: ticket.id) != nil else { return }
            if failed { s.failed += 1 } else { s.completed += 1; s.metrics.upstreamInFlight(-1) }
        }
    }

    public func keyConfigured(_ key: String, capacity: Double, refillPerSecond: Double, tokens: Double) {
        state.withLock { s in
            guard let k = s.keyIndex[key] else { return }
            s.buckets[k] = Bucket(capacity: capacity, refill: refillPerSecond, tokens: tokens)
            s.metrics.setConfiguration(key: k, capacity: capacity, refillPerSecond: refillPerSecond)
        }
    }

    /// A parent bucket as the gateway configured it, by the name the `parent` lookup gives;
    /// kept for its row even before a key names it (a keying change makes the rows at the
    /// next snapshot, and they show the level from their first frame).
    public func parentConfigured(_ parent: String, capacity: Double, refillPerSecond: Double, tokens: Double) {
        state.withLock { s in
            let b = Bucket(capacity: capacity, refill: refillPerSecond, tokens: tokens)
            s.parentLevels[parent] = b
            guard let p = s.parentIndex[parent] else { return }
            s.buckets[p] = b
            s.metrics.setConfiguration(key: p, capacity: capacity, refillPerSecond: refillPerSecond)
        }
    }

    // MARK: FleetDriver

    /// Real requests come in real time: ignored.
    public func advance(by dt: Nanoseconds) {}
    /// A gateway serves whatever arrives: ignored.
    public func setPaused(_ paused: Bool) {}
    public func shutdown() {}

    /// Hands the command to the gateway (which reconfigures its limiters) and notes it.
    public func apply(_ command: FleetCommand) throws {
        try steer(command)
        let t = now
        state.withLock { s in
            if case .setKeying(let k) = command { s.keying = k }
            s.lastChange = ChangeNote(at: t, summary: "\(command)", key: nil)
        }
    }

    /// Waits so far of the requests waiting now, per group and per key.
    private static func pending(_ s: State, at t: Nanoseconds) -> (groups: [[Int64]], keys: [Int: [Int64]]) {
        var groups = Array(repeating: [Int64](), count: s.metrics.groups.count)
        var keys: [Int: [Int64]] = [:]
        for r in s.open.values where r.queued && !r.admitted {
            groups[r.group].append(t - r.arrivedAt)
            keys[r.key, default: []].append(t - r.arrivedAt)
            if let p = r.parent { keys[p, default: []].append(t - r.arrivedAt) }
        }
        return (groups, keys)
    }

    public func snapshot() -> FleetSnapshot {
        let t = now
        // Each key's parent now (the keying may have changed since its requests), asked
        // outside the lock: keys first, then their parents, then the frame.
        var parentNames: [Int: String] = [:]
        if let parent {
            let keys = state.withLock { s in
                s.metrics.keys.indices.filter { !s.parentRows.contains($0) }.map { ($0, s.metrics.keys[$0].name, s.metrics.keys[$0].group) }
            }
            for (k, name, group) in keys { parentNames[k] = parent(name, group) }
        }
        return state.withLock { s in
            var parentOf: [Int: Int] = [:]
            for (k, name) in parentNames { parentOf[k] = s.parentRow(name, group: s.metrics.keys[k].group, at: t) }
            let shownParents = Set(parentOf.values)
            let pending = Self.pending(s, at: t)
            var keys: [KeySnapshot] = []
            for k in s.buckets.indices {
                // A parent no key names now (keying changed) is no bucket any request passes.
                if s.parentRows.contains(k) && !shownParents.contains(k) { continue }
                let b = s.buckets[k]
                s.metrics.catchUp(key: k, to: t) { _ in b.tokens }
                let oldest = Double(pending.keys[k]?.max() ?? 0) / 1e9
                var key = s.metrics.keySnapshot(key: k, capacity: b.capacity, refillPerSecond: b.refill, tokens: b.tokens,
                                                oldestWaitSeconds: oldest, pending: pending.keys[k])
                key.parent = parentOf[k].map { s.metrics.keys[$0].name }
                keys.append(key)
            }
            s.metrics.sampleGroups(to: t)
            return FleetSnapshot(scenario: scenarioName, mode: .live, keying: s.keying, now: t,
                                 sampleInterval: s.metrics.sampleInterval, noisyEnabled: true, keys: keys,
                                 groups: s.metrics.groupSnapshots(pending: pending.groups),
                                 upstream: s.metrics.upstreamSnapshot(name: s.upstream.name, limits: s.upstream.limits, at: t),
                                 lastChange: s.lastChange, tuningFactor: nil)
        }
    }

    public func reportSoFar() -> FleetReport? {
        let t = now
        return state.withLock { s in
            let m = s.metrics
            return FleetReport(metrics: m, scenario: scenarioName, mode: .live, seed: 0, duration: t, keying: s.keying,
                               includeKey: { _ in true }, pending: Self.pending(s, at: t), baseRefill: [:],
                               tuningFactor: nil, tuningMoves: 0, upstreamName: s.upstream.name,
                               completed: s.completed, failed: s.failed, warnings: [], wallSeconds: Double(t) / 1e9)
        }
    }
}
