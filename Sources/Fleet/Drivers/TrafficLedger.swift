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
public final class TrafficLedger<C: Clock>: FleetTraffic, FleetDriver, Sendable where C.Duration == Duration {
    public var mode: FleetMode { .live }
    public let scenarioName: String
    public let clock: C
    public let startedAt: C.Instant
    private let steer: @Sendable (FleetCommand) throws -> Void

    private struct Request: Sendable {
        var key: Int
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
        var groupIndex: [String: Int] = [:]
        var buckets: [Bucket] = []
        var open: [UInt64: Request] = [:]
        var nextID: UInt64 = 0
        var keying: Keying
        var upstream: UpstreamSpec
        var lastChange: ChangeNote?
        var completed = 0
        var failed = 0
    }

    private let state: Mutex<State>

    public init(name: String, keying: Keying, clock: C, upstream: UpstreamSpec = UpstreamSpec(),
                steer: @escaping @Sendable (FleetCommand) throws -> Void = { _ in throw FleetError.invalid("this fleet takes no commands") }) {
        scenarioName = name
        self.clock = clock
        startedAt = clock.now
        self.steer = steer
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
            s.nextID &+= 1
            s.open[s.nextID] = Request(key: k, group: g, arrivedAt: t, tokens: cost)
            return TrafficTicket(id: s.nextID)
        }
    }

    public func waiting(_ ticket: TrafficTicket) {
        state.withLock { s in
            guard var r = s.open[ticket.id], !r.queued, !r.admitted else { return }
            r.queued = true
            s.open[ticket.id] = r
            s.metrics.enqueued(key: r.key)
        }
    }

    public func admitted(_ ticket: TrafficTicket) {
        let t = now
        state.withLock { s in
            guard var r = s.open[ticket.id], !r.admitted else { return }
            r.admitted = true
            s.open[ticket.id] = r
            s.metrics.admitted(key: r.key, group: r.group, wait: t - r.arrivedAt, at: t, wasQueued: r.queued)
        }
    }

    public func refused(_ ticket: TrafficTicket, afterWaiting: Bool) {
        state.withLock { s in
            guard let r = s.open.removeValue(forKey: ticket.id), !r.admitted else { return }
            if afterWaiting {
                s.metrics.timedOut(key: r.key, group: r.group, wasQueued: r.queued)
            } else {
                if r.queued { s.metrics.dequeued(key: r.key) }
                s.metrics.rejected(key: r.key, group: r.group)
            }
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
        }
        return (groups, keys)
    }

    public func snapshot() -> FleetSnapshot {
        let t = now
        return state.withLock { s in
            let pending = Self.pending(s, at: t)
            var keys: [KeySnapshot] = []
            for k in s.buckets.indices {
                let b = s.buckets[k]
                s.metrics.catchUp(key: k, to: t) { _ in b.tokens }
                let oldest = Double(pending.keys[k]?.max() ?? 0) / 1e9
                keys.append(s.metrics.keySnapshot(key: k, capacity: b.capacity, refillPerSecond: b.refill, tokens: b.tokens,
                                                  oldestWaitSeconds: oldest, pending: pending.keys[k]))
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
