import Fleet
import Foundation
import TokenBucket

/// The dashboard's view of a running gateway: one row per client key (name or fingerprint) as
/// clients arrive, groups by configured tenant (`unlisted` for the rest), and the dashboard's
/// edits (capacity, refill, keying, preset) applied to the live limits.
///
/// A `FleetDriver` of its own, kept in this file, so it can later sit on the fleet core's
/// shared snapshot code. Time series are sampled once per second of real time from the
/// gateway's counters, when the dashboard calls ``advance(by:)``.
public final class GatewayFleetDriver: FleetDriver {
    public let mode = FleetMode.live
    public let scenarioName: String
    let limits: GatewayLimits
    let metrics: GatewayMetrics
    let started = ContinuousClock.now
    /// The mock upstream's own limits, when serving from it (nil: unknown or unlimited).
    let upstreamRPM: Double?
    let upstreamTPM: Double?
    private var lastSample: Duration = .zero
    private var series: [String: Series] = [:]
    private var groupSeries: [String: Series] = [:]
    private var lastChange: ChangeNote?
    /// Requests tracked at the last sample, by key, to turn counts into rates.
    private var lastAdmitted: [String: Int] = [:]
    private var lastGroupAdmitted: [String: Int] = [:]

    public static let sampleInterval: Nanoseconds = 1_000_000_000
    static let seriesLength = 120

    struct Series {
        var admitted: [Double] = []
        var tokens: [Double] = []
        var queue: [Double] = []
        var p99: [Double] = []
        mutating func push(_ a: Double, _ t: Double, _ q: Double, _ p: Double) {
            admitted.append(a); tokens.append(t); queue.append(q); p99.append(p)
            if admitted.count > GatewayFleetDriver.seriesLength {
                admitted.removeFirst(); tokens.removeFirst(); queue.removeFirst(); p99.removeFirst()
            }
        }
    }

    /// - Parameter port: the port the gateway listens on, shown in the header (so `--listen
    ///   HOST:0` tells on screen which port it picked).
    public init(server: GatewayServer, port: Int? = nil) {
        limits = server.responder.limits
        metrics = server.responder.metrics
        scenarioName = "serve" + (port.map { " :\($0)" } ?? "") + " → "
            + (server.mockUpstream != nil ? "mock upstream" : server.responder.upstream)
        upstreamRPM = server.mockUpstream?.configuration.requestsPerMinute
        upstreamTPM = server.mockUpstream?.configuration.tokensPerMinute
    }

    private var now: Nanoseconds {
        let d = ContinuousClock.now - started
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    /// Real time runs on its own; this only takes a sample when a second has passed.
    public func advance(by dt: Nanoseconds) {
        let elapsed = ContinuousClock.now - started
        guard elapsed - lastSample >= .nanoseconds(Self.sampleInterval) else { return }
        let seconds = (elapsed - lastSample).inSeconds
        lastSample = elapsed
        var groupAdmitted: [String: Int] = [:]
        var groupWaiting: [String: Int] = [:]
        for (id, s) in metrics.stats() {
            let rate = Double(s.admitted - (lastAdmitted[id] ?? 0)) / seconds
            lastAdmitted[id] = s.admitted
            let tokens = limits.status(bucket: bucket(id, s))[.requests]?.remaining ?? 0
            series[id, default: Series()].push(rate, tokens, Double(s.waiting), Self.percentile(s.recentWaitsMs, 0.99))
            groupAdmitted[s.group, default: 0] += s.admitted
            groupWaiting[s.group, default: 0] += s.waiting
        }
        for (g, a) in groupAdmitted {
            let rate = Double(a - (lastGroupAdmitted[g] ?? 0)) / seconds
            lastGroupAdmitted[g] = a
            groupSeries[g, default: Series()].push(rate, 0, Double(groupWaiting[g] ?? 0), 0)
        }
    }

    private func bucket(_ id: String, _ s: KeyStats) -> String {
        limits.bucket(for: ClientKey(id: id, tenant: s.tenant, known: s.known)).bucket
    }

    public func snapshot() -> FleetSnapshot {
        let stats = metrics.stats()
        var keys: [KeySnapshot] = []
        var groups: [String: GroupSnapshot] = [:]
        var totalRecent = 0.0
        for (id, s) in stats.sorted(by: { $0.key < $1.key }) {
            let b = bucket(id, s)
            let spec = limits.spec(bucket: b)
            let status = limits.status(bucket: b)[.requests]
            let ser = series[id] ?? Series()
            let waits = WaitPercentiles(p50: Self.percentile(s.recentWaitsMs, 0.5), p90: Self.percentile(s.recentWaitsMs, 0.9),
                                        p99: Self.percentile(s.recentWaitsMs, 0.99), max: s.recentWaitsMs.max() ?? 0)
            keys.append(KeySnapshot(key: id, group: s.group, capacity: spec.capacity ?? 0, refillPerSecond: spec.refill ?? 0,
                                    tokens: status?.remaining ?? 0, waiters: s.waiting, oldestWaitSeconds: 0,
                                    requests: s.requests, admitted: s.admitted, rejected: s.limited, upstream429: s.upstream429,
                                    maxQueue: s.maxWaiting, waitMs: waits, admittedPerSecond: ser.admitted,
                                    tokenSeries: ser.tokens, queueSeries: ser.queue))
            var g = groups[s.group] ?? GroupSnapshot(name: s.group, clients: 0, requests: 0, admitted: 0, rejected: 0,
                                                      upstream429: 0, waitMs: WaitPercentiles(), throughput: 0, shareOfAdmitted: 0)
            g.clients += 1; g.requests += s.requests; g.admitted += s.admitted; g.rejected += s.limited
            g.upstream429 += s.upstream429; g.waiting += s.waiting
            g.waitMs.max = Swift.max(g.waitMs.max, waits.max)
            g.waitMs.p99 = Swift.max(g.waitMs.p99, waits.p99)
            g.waitMs.p50 = Swift.max(g.waitMs.p50, waits.p50)
            g.waitMs.p90 = Swift.max(g.waitMs.p90, waits.p90)
            groups[s.group] = g
        }
        for (name, var g) in groups {
            let ser = groupSeries[name] ?? Series()
            g.throughputSeries = ser.admitted
            g.throughput = ser.admitted.suffix(10).reduce(0, +) / Double(Swift.max(1, Swift.min(10, ser.admitted.count)))
            totalRecent += g.throughput
            groups[name] = g
        }
        let groupList = groups.values.map { g -> GroupSnapshot in
            var g = g
            g.shareOfAdmitted = totalRecent > 0 ? g.throughput / totalRecent : 0
            return g
        }.sorted { $0.name < $1.name }
        let answers = metrics.upstreamAnswers()
        let upstreamRequests = answers.values.reduce(0, +)
        let upstream = UpstreamSnapshot(name: scenarioName, requestsPerMinute: upstreamRPM, tokensPerMinute: upstreamTPM,
                                        requestsLastMinute: 0,
                                        tokensLastMinute: 0, requests: upstreamRequests, status429: answers[429] ?? 0,
                                        rate429: upstreamRequests > 0 ? Double(answers[429] ?? 0) / Double(upstreamRequests) : 0,
                                        inFlight: 0)
        let keying: Keying
        switch limits.keying {
        case .perKey: keying = .perUser
        case .perTenant: keying = .perTenant
        case .shared: keying = .shared
        case .hierarchical: keying = .hierarchical
        }
        return FleetSnapshot(scenario: scenarioName, mode: .live, keying: keying, now: now, sampleInterval: Self.sampleInterval,
                             noisyEnabled: true, keys: keys, groups: groupList, upstream: upstream, lastChange: lastChange,
                             tuningFactor: nil)
    }

    public func apply(_ command: FleetCommand) throws {
        switch command {
        case let .setCapacity(value, key):
            try limits.update(key: key) { $0.capacity = value }
            note("capacity → \(RateLimitHeaders.whole(value))", key: key)
        case let .setRefill(value, key):
            try limits.update(key: key) { $0.refill = value }
            note("refill → \(RateLimitHeaders.whole(value))/s", key: key)
        case let .setKeying(k):
            let g: GatewayKeying
            switch k {
            case .perUser: g = .perKey
            case .perTenant: g = .perTenant
            case .shared: g = .shared
            case .hierarchical: g = .hierarchical
            }
            try limits.setKeying(g)
            note("keying → \(g.rawValue)", key: nil)
        case .setNoisy:
            throw GatewayConfigError("serve has no generated load to switch off: the traffic is real")
        case let .applyPreset(name):
            guard let preset = ProviderPreset.named(name) else { throw GatewayConfigError("unknown preset \"\(name)\"") }
            try limits.applyPreset(preset)
            note("preset → \(name)", key: nil)
        }
    }

    private func note(_ summary: String, key: String?) {
        lastChange = ChangeNote(at: now, summary: summary, key: key)
    }

    /// Real clients cannot be paused; pausing does nothing.
    public func setPaused(_ paused: Bool) {}

    /// The server outlives the driver (the dashboard's restart makes a new driver over the same
    /// gateway); the serve command stops the server when the dashboard ends.
    public func shutdown() {}

    static func percentile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
}
