import Collections
import TokenBucket

/// The fleet: every rule of it, once, with time passed in (sans-I/O: it never reads a clock and
/// never sleeps). Clients and their draws, keying and switches that move waiters, the client-side
/// buckets and their first-come-first-served queues, commands, the tuning rule, the provider
/// model (limits, 429 + Retry-After, latency), metrics, snapshots and reports.
///
/// Drivers only feed it time:
/// - ``Simulation`` (virtual time) runs its event queue as fast as it can;
/// - ``LiveFleet`` (any `Clock`: the real one, or a test clock) runs it up to the clock's now
///   before every read-out and command, and one task sleeps until the next event is due;
/// - a driver fed by real requests (a gateway, whose limiters are its own) reports each
///   request's steps through ``FleetTraffic`` to a ``TrafficLedger``, which keeps the same
///   ``FleetMetrics`` and gives the same ``FleetSnapshot`` and ``FleetReport``.
///
/// One value, so the event loop runs as a `mutating` method with static exclusivity (no runtime
/// access checks per field) and no reference counting in the hot path. Indices, not names,
/// address everything on the hot path: clients, request slots and keys are `Int32` indices into
/// arrays that are allocated once and reused.
///
/// Simultaneous events run in the order they were scheduled (``EventQueue``): that one rule also
/// breaks the ties a Retry-After rounded to a millisecond creates, for every driver alike.
struct FleetCore {
    struct Client {
        var name: String
        var group: Int32
        var tenant: Int32
        var arrival: Arrival
        var cost: CostModel
        var retry: RetryPolicy
        /// Give-up deadline after the first arrival, ns (.max: none).
        var deadline: Int64
        var noisy: Bool
        var enabled = true
        /// Arrival events carry the epoch they were scheduled in; turning a client off or on
        /// bumps it, so stale arrivals are dropped.
        var epoch: UInt32 = 0
        /// Requests started and not yet finished.
        var live: Int32 = 0
        var rng: Xoshiro256
        /// Offset of the on/off cycle, ns.
        var phase: Int64 = 0
    }

    /// A request from its arrival at the limiter until it finishes (completed, refused, timed out
    /// or failed). Slots are reused; `gen` invalidates events of a previous use or plan.
    struct Request {
        enum Phase: UInt8 { case childQueue, parentQueue, upstream, retryWait, free, storeTrip }
        var client: Int32 = 0
        var childKey: Int32 = 0
        var parentKey: Int32 = -1
        var gen: UInt32 = 0
        var attempt: Int32 = 0
        var phase: Phase = .free
        var queuedChild = false
        var queuedParent = false
        /// Order of arrival at the limiter (re-queueing keeps it).
        var order: UInt64 = 0
        var firstArrival: Int64 = 0
        /// This attempt's arrival at the limiter: waits count from here.
        var arrival: Int64 = 0
        var parentStart: Int64 = 0
        var deadline: Int64 = .max
        /// Client-bucket cost, nano-tokens.
        var costUnits: Int64 = 0
        var prompt: Int32 = 0
        var completion: Int32 = 0
        var reservation: Reservation?
        /// Port mode: this wait was entered again by a keying switch (a refusal is a time-out).
        var requeued = false
        /// Replicas: the replica the balancer sent this attempt to, when it got there (ns), and
        /// when that replica has the shared store's answer (ns; 0 with local buckets).
        var replica: Int32 = 0
        var routedAt: Int64 = 0
        var answerAt: Int64 = 0
        /// Admitted by the store, answer on its way: the metrics key it was admitted on (a
        /// keying switch may replace the table before the answer arrives).
        var admittedMetricsKey: Int32 = -1
    }

    /// One client-side bucket and the requests waiting on it, in admission order.
    struct LimiterKey {
        var name: String
        var bucket: BucketState
        var capacityUnits: Int64
        /// Refill before the tuning factor (tokens per second).
        var baseRefill: Double
        var queue: Deque<Int32> = []
        var metricsKey: Int
        var isParent: Bool
    }

    /// The buckets of one keying strategy.
    struct KeyingTable {
        var keying: Keying
        var keys: [LimiterKey] = []
        /// Per client: its key (the child in hierarchical keying).
        var clientKey: [Int32] = []
        /// Per key: its parent key, or -1.
        var parentOf: [Int32] = []
        /// Replicas with local buckets: keys of one replica; replica r's copy of key k is
        /// k + r × this (0: one copy, every replica uses it).
        var keysPerReplica: Int32 = 0
    }

    struct UpstreamDimension {
        enum Kind: UInt8 { case requests, tokens, promptTokens, completionTokens, burst, daily }
        var kind: Kind
        var bucket: BucketState
        var capacityUnits: Int64
    }

    let scenario: Scenario
    let seed: UInt64
    var now: Nanoseconds = 0
    var events = EventQueue()
    var clients: [Client] = []
    var requests: [Request] = []
    var freeSlots: [Int32] = []
    var table: KeyingTable
    var parked: [Keying: KeyingTable] = [:]
    var limits: ClientLimits
    var upstream: UpstreamSpec
    var upstreamDims: [UpstreamDimension] = []
    var upstreamRng: Xoshiro256
    var metrics: FleetMetrics
    var nextOrder: UInt64 = 0
    var noisyEnabled = true
    var lastChange: ChangeNote?
    // Tuning controller.
    var tuningFactor = 1.0
    var tuningMoves = 0
    var windowRequests = 0
    var window429 = 0
    /// Arrivals stopped by a live pause (requests already sent go on).
    var arrivalsPaused = false
    /// Waiters one bucket holds at most; a request arriving at a full queue is refused.
    let queueLimit: Int
    /// Events run so far (the virtual driver's budget counts these).
    var eventsRun = 0
    /// Real limiters that do the client-side waiting (``TaskFleet``); nil: the core's own
    /// queues do (``Simulation``, ``LiveFleet``). See ``AdmissionPort``.
    var port: (any AdmissionPort)?
    /// Replicas behind a balancer (nil: none). See ``ReplicaSpec``.
    var replicaState: ReplicaState?
    // Totals.
    var started = 0
    var completed = 0
    var failed = 0

    static let oneMillisecond: Int64 = 1_000_000

    init(scenario: Scenario, seed: UInt64) throws {
        self.scenario = scenario
        self.seed = seed
        queueLimit = scenario.queueLimit
        limits = scenario.limits
        upstream = scenario.upstream
        upstreamRng = Xoshiro256(seed: seed, stream: 0)
        metrics = FleetMetrics()
        table = KeyingTable(keying: scenario.keying)
        try Self.validate(scenario)

        let groupNames = scenario.groupNames
        for g in groupNames {
            let n = scenario.clients.filter { $0.group == g }.reduce(0) { $0 + $1.count }
            _ = metrics.addGroup(g, clients: n)
        }
        var tenants: [String] = []
        for spec in scenario.clients {
            let t: Int
            if let i = tenants.firstIndex(of: spec.tenant) { t = i } else { tenants.append(spec.tenant); t = tenants.count - 1 }
            for i in 0..<spec.count {
                let name = spec.count == 1 ? spec.name : "\(spec.name)-\(i + 1)"
                let idx = UInt64(clients.count + 1)
                clients.append(Client(name: name, group: Int32(groupNames.firstIndex(of: spec.group)!), tenant: Int32(t),
                                      arrival: spec.arrival, cost: spec.cost, retry: spec.retry,
                                      deadline: spec.deadline ?? .max, noisy: spec.noisy,
                                      rng: Xoshiro256(seed: seed, stream: idx)))
            }
        }
        self.tenantNames = tenants
        if let spec = scenario.replicas { replicaState = ReplicaState(spec, clients: clients, seed: seed) }
        table = try buildTable(scenario.keying)
        upstreamDims = try Self.dimensions(for: upstream.limits)

        for c in clients.indices { scheduleFirstArrivals(c) }
        events.push(metrics.sampleInterval, .sample, 0, 0)
        if let t = scenario.tuning { events.push(t.window, .tune, 0, 0) }
    }

    var tenantNames: [String] = []

    static func validate(_ s: Scenario) throws {
        guard !s.clients.isEmpty else { throw FleetError.invalid("a scenario needs at least one client") }
        for spec in [s.limits.perUser, s.limits.perTenant, s.limits.shared, s.limits.parent] { _ = try spec.configuration() }
        for c in s.clients {
            guard c.count >= 1 else { throw FleetError.invalid("client \(c.name): count must be >= 1, got \(c.count)") }
            switch c.arrival {
            case .steady(let r), .poisson(let r), .onOff(let r, _, _):
                guard r.isFinite, r > 0 else { throw FleetError.invalid("client \(c.name): rate must be > 0, got \(r)") }
            case let .closedLoop(n, think):
                guard n >= 1 else { throw FleetError.invalid("client \(c.name): concurrency must be >= 1, got \(n)") }
                guard think >= 0 else { throw FleetError.invalid("client \(c.name): think must be >= 0") }
            case let .ramp(from, to, over):
                guard from >= 0, to >= 0, from + to > 0, over > 0 else {
                    throw FleetError.invalid("client \(c.name): ramp needs from, to >= 0 (not both 0) and over > 0")
                }
            }
            if case .onOff(_, let on, let off) = c.arrival, on <= 0 || off < 0 {
                throw FleetError.invalid("client \(c.name): on must be > 0 and off >= 0")
            }
            if case .fixed(let x) = c.cost, !(x > 0 && x.isFinite) {
                throw FleetError.invalid("client \(c.name): cost must be > 0, got \(x)")
            }
        }
        if let t = s.tuning, !(t.window > 0 && t.cut > 0 && t.cut < 1 && t.threshold >= 0) {
            throw FleetError.invalid("tuning: window must be > 0, cut in (0, 1), threshold >= 0")
        }
        guard s.upstream.ttft.lowerBound >= 0, s.upstream.tokensPerSecond.lowerBound > 0 else {
            throw FleetError.invalid("upstream: ttft must be >= 0 and tokens_per_s > 0")
        }
        guard s.queueLimit >= 1 else { throw FleetError.invalid("queue limit must be >= 1, got \(s.queueLimit)") }
        if let (field, message) = s.replicas?.violation() { throw FleetError.invalid("replicas: \(field): \(message)") }
    }

    /// The provider's buckets: one per limited dimension, each holding one minute's worth and
    /// refilling continuously; a per-second request cap holds one second's worth; a daily
    /// request limit (OpenRouter's 50 a day) holds one day's worth and refills over the day.
    static func dimensions(for l: ProviderLimits) throws -> [UpstreamDimension] {
        var dims: [UpstreamDimension] = []
        func add(_ kind: UpstreamDimension.Kind, perMinute: Double?, capacity: Double? = nil) throws {
            guard let pm = perMinute else { return }
            let b = try BucketState(capacity: capacity ?? pm, refillPerSecond: pm / 60)
            dims.append(UpstreamDimension(kind: kind, bucket: b, capacityUnits: TokenUnits.units(b.configuration.capacity)))
        }
        try add(.requests, perMinute: l.requestsPerMinute)
        try add(.tokens, perMinute: l.tokensPerMinute)
        try add(.promptTokens, perMinute: l.inputTokensPerMinute)
        try add(.completionTokens, perMinute: l.outputTokensPerMinute)
        if l.burstPerSecond, let rpm = l.requestsPerMinute { try add(.burst, perMinute: rpm, capacity: Swift.max(1, rpm / 60)) }
        if let rpd = l.requestsPerDay { try add(.daily, perMinute: rpd / 1440, capacity: rpd) }
        return dims
    }

    // MARK: The loop

    /// Runs every event up to and including `target`, then sets the clock to `target`; stops
    /// early (returning false, the clock at the last event run) once `budget` events have run.
    /// - Complexity: O(events × log(pending events)); O(1) when nothing is due.
    @discardableResult
    mutating func run(until target: Nanoseconds, budget: Int = .max) -> Bool {
        while let e = events.first, e.time <= target {
            guard eventsRun < budget else { return false }
            eventsRun &+= 1
            _ = events.pop()
            now = e.time
            switch e.kind {
            case .arrival: onArrival(client: Int(e.a), epoch: e.b)
            case .admit: onAdmit(slot: e.a, gen: e.b)
            case .retry: onRetry(slot: e.a, gen: e.b)
            case .done: onDone(slot: e.a, gen: e.b)
            case .sample:
                metrics.sampleGroups(to: now)
                events.push(now + metrics.sampleInterval, .sample, 0, 0)
            case .tune: onTune()
            case .storeDecision: onStoreDecision(slot: e.a, gen: e.b)
            case .storeAnswer: onStoreAnswer(slot: e.a, gen: e.b)
            }
        }
        if target > now { now = target }
        return true
    }

    /// When the next event is due (nil: none).
    var nextEventTime: Nanoseconds? { events.first?.time }
}
