@testable import Dashboard
import Fleet

/// A small deterministic fake fleet for the run-loop tests: a fluid model, not the simulator
/// (the golden screens use the real one). Six quiet users send 2 requests/s
/// each, two noisy ones 30/s; buckets start at capacity 20, refill 5/s; the upstream allows
/// 500 requests/minute. Same inputs, same numbers, on any machine.
///
/// ```swift
/// let fleet = PreviewFleet()
/// fleet.advance(by: 10_000_000_000)      // 10 simulated seconds
/// fleet.snapshot().keys.count            // 8 (per-user keying)
/// ```
final class PreviewFleet: FleetDriver {
let mode: FleetMode = .simulated
let scenarioName: String
static let presetNames = ["openai-gpt-4o-tier1", "openai-gpt-4o-mini-tier1", "anthropic-sonnet-tier1", "openrouter-free"]

    struct Client { var name: String; var group: String; var tenant: String; var rate: Double }
    struct Bucket {
        var key: String, group: String, capacity: Double, refill: Double, tokens: Double
        var queue = 0.0, oldest = 0.0, requests = 0.0, admitted = 0.0, rejected = 0.0, r429 = 0.0, maxQueue = 0.0
        var admittedWindow = 0.0
        var admittedSeries: [Double] = [], tokenSeries: [Double] = [], queueSeries: [Double] = []
        var waitSeconds: Double { refill > 0 ? queue / refill : 0 }
    }

    static let step: Int64 = 100_000_000
static let sampleInterval: Int64 = 500_000_000
    static let seriesLength = 240
    static let maxQueue = 200.0
    static let upstreamPerSecond = 500.0 / 60

    let clients: [Client]
    var keying: Keying
    var noisy = true
    var now: Int64 = 0
    var pending: Int64 = 0
    var defaultCapacity: Double
    var defaultRefill: Double
    var buckets: [String: Bucket] = [:]
    var lastChange: ChangeNote?
    var upstreamRequests = 0.0, upstream429 = 0.0, recentAdmitted: [Double] = [], recent429: [Double] = []
    var groupAdmittedWindow: [String: Double] = [:]
    var groupTotals: [String: (requests: Double, admitted: Double, rejected: Double, r429: Double)] = [:]
    var groupThroughput: [String: [Double]] = [:], groupP99: [String: [Double]] = [:]

init(scenario: String = "noisy-neighbor", keying: Keying = .perUser, capacity: Double? = nil, refill: Double? = nil) {
        scenarioName = scenario
        self.keying = keying
        defaultCapacity = capacity ?? 20
        defaultRefill = refill ?? 5
        clients = (1...6).map { Client(name: "user-q\($0)", group: "quiet", tenant: "team-quiet", rate: 2) }
            + (1...2).map { Client(name: "user-n\($0)", group: "noisy", tenant: "team-noisy", rate: 30) }
        rebuildBuckets()
    }

    func key(for client: Client) -> String {
        switch keying {
        case .shared: "shared"
        case .perTenant: client.tenant
        case .perUser, .hierarchical: client.name
        }
    }

    func rebuildBuckets() {
        buckets = [:]
        for c in clients {
            let k = key(for: c)
            let group = buckets[k].map { $0.group == c.group ? c.group : "mixed" } ?? c.group
            buckets[k] = Bucket(key: k, group: group, capacity: defaultCapacity, refill: defaultRefill, tokens: defaultCapacity)
        }
    }

func advance(by dt: Int64) {
        pending += max(0, dt)
        while pending >= PreviewFleet.step {
            pending -= PreviewFleet.step
            tick()
        }
    }

    func tick() {
        let dt = Double(PreviewFleet.step) / 1e9
        let t = Double(now) / 1e9
        var admittedThisTick = 0.0
        var groupAdmitted: [String: Double] = [:]
        for k in buckets.keys.sorted() {
            var b = buckets[k]!
            let users = clients.filter { key(for: $0) == k && ($0.group != "noisy" || noisy) }
            // Deterministic wobble so charts move: each client's rate swings ±50 % on its own period.
            let arrivals = users.enumerated().reduce(0.0) { sum, pair in
                let (i, c) = pair
                return sum + c.rate * dt * (1 + 0.5 * sin(t * (0.7 + 0.3 * Double(i)) + Double(i)))
            }
            b.requests += arrivals
            b.queue += arrivals
            b.tokens = min(b.capacity, b.tokens + b.refill * dt)
            let admit = min(b.queue, b.tokens)
            b.queue -= admit; b.tokens -= admit; b.admitted += admit; b.admittedWindow += admit
            if b.queue > PreviewFleet.maxQueue { b.rejected += b.queue - PreviewFleet.maxQueue; b.queue = PreviewFleet.maxQueue }
            b.oldest = b.queue > 0.5 ? b.waitSeconds : 0
            b.maxQueue = max(b.maxQueue, b.queue)
            admittedThisTick += admit
            for c in users {
                let share = c.rate / max(users.reduce(0) { $0 + $1.rate }, 1e-9)
                groupAdmitted[c.group, default: 0] += admit * share
                var g = groupTotals[c.group] ?? (0, 0, 0, 0)
                g.requests += arrivals * share; g.admitted += admit * share
                groupTotals[c.group] = g
            }
            buckets[k] = b
        }
        // The upstream answers 429 to whatever exceeds its per-second share of the minute limit.
        let rate = admittedThisTick / dt
        let over = max(0, rate - PreviewFleet.upstreamPerSecond) * dt
        upstreamRequests += admittedThisTick
        upstream429 += over
        // 429s are charged to keys by their share of this sample's admissions.
        let window = buckets.values.reduce(0) { $0 + $1.admittedWindow }
        for k in buckets.keys where window > 0 {
            buckets[k]!.r429 += over * buckets[k]!.admittedWindow / window
        }
        recentAdmitted.append(admittedThisTick); recent429.append(over)
        if recentAdmitted.count > 600 { recentAdmitted.removeFirst(); recent429.removeFirst() }
        for (g, a) in groupAdmitted { groupAdmittedWindow[g, default: 0] += a }
        now += PreviewFleet.step
        if now % PreviewFleet.sampleInterval == 0 { sample() }
    }

    func sample() {
        let seconds = Double(PreviewFleet.sampleInterval) / 1e9
        func push(_ series: inout [Double], _ v: Double) {
            series.append(v)
            if series.count > PreviewFleet.seriesLength { series.removeFirst(series.count - PreviewFleet.seriesLength) }
        }
        for k in buckets.keys {
            var b = buckets[k]!
            push(&b.admittedSeries, b.admittedWindow / seconds)
            push(&b.tokenSeries, b.tokens)
            push(&b.queueSeries, b.queue)
            b.admittedWindow = 0
            buckets[k] = b
        }
        for g in ["quiet", "noisy"] {
            push(&groupThroughput[g, default: []], (groupAdmittedWindow[g] ?? 0) / seconds)
            push(&groupP99[g, default: []], p99(group: g))
        }
        groupAdmittedWindow = [:]
    }

    func p99(group: String) -> Double {
        let waits = clients.filter { $0.group == group }.compactMap { buckets[key(for: $0)]?.waitSeconds }
        return (waits.max() ?? 0) * 1000
    }

func snapshot() -> FleetSnapshot {
        let keys = buckets.values.sorted { $0.key < $1.key }.map { b in
            KeySnapshot(key: b.key, group: b.group, capacity: b.capacity, refillPerSecond: b.refill, tokens: b.tokens,
                        waiters: Int(b.queue.rounded()), oldestWaitSeconds: b.oldest, requests: Int(b.requests),
                        admitted: Int(b.admitted), rejected: Int(b.rejected), upstream429: Int(b.r429),
                        maxQueue: Int(b.maxQueue.rounded()),
                        waitMs: WaitPercentiles(p50: b.waitSeconds * 500, p90: b.waitSeconds * 900, p99: b.waitSeconds * 990,
                                                max: b.waitSeconds * 1000),
                        admittedPerSecond: b.admittedSeries, tokenSeries: b.tokenSeries, queueSeries: b.queueSeries)
        }
        let throughputTotal = ["quiet", "noisy"].reduce(0.0) { $0 + (groupThroughput[$1]?.last ?? 0) }
        let groups = ["quiet", "noisy"].map { g in
            let totals = groupTotals[g] ?? (0, 0, 0, 0)
            let p = p99(group: g)
            let tp = groupThroughput[g]?.last ?? 0
            return GroupSnapshot(name: g, clients: clients.filter { $0.group == g }.count, requests: Int(totals.requests),
                                 admitted: Int(totals.admitted), rejected: Int(totals.rejected), upstream429: Int(totals.r429),
                                 waitMs: WaitPercentiles(p50: p / 2, p90: p * 0.9, p99: p, max: p),
                                 throughput: tp, shareOfAdmitted: throughputTotal > 0 ? tp / throughputTotal : 0,
                                 throughputSeries: groupThroughput[g] ?? [], p99Series: groupP99[g] ?? [])
        }
        let lastMinute = recentAdmitted.reduce(0, +)
        let window = recentAdmitted.count
        let upstream = UpstreamSnapshot(
            name: "preview-upstream", requestsPerMinute: 500, tokensPerMinute: nil,
            requestsLastMinute: window > 0 ? lastMinute * 600 / Double(window) : 0, tokensLastMinute: 0,
            requests: Int(upstreamRequests), status429: Int(upstream429),
            rate429: lastMinute > 0 ? recent429.reduce(0, +) / lastMinute : 0,
            inFlight: Int((recentAdmitted.last ?? 0) * 6))
        return FleetSnapshot(scenario: scenarioName, mode: mode, keying: keying, now: now,
                             sampleInterval: PreviewFleet.sampleInterval, noisyEnabled: noisy, keys: keys, groups: groups,
                             upstream: upstream, lastChange: lastChange, tuningFactor: nil)
    }

func apply(_ command: FleetCommand) throws {
        struct Invalid: Error, CustomStringConvertible { var description: String }
        func check(_ name: String, _ v: Double) throws {
            guard v.isFinite, v > 0 else { throw Invalid(description: "\(name) must be > 0, got \(v)") }
        }
        switch command {
        case let .setCapacity(v, key):
            try check("capacity", v)
            if key == nil { defaultCapacity = v }
            for k in buckets.keys where key == nil || key == k {
                buckets[k]!.capacity = v; buckets[k]!.tokens = min(buckets[k]!.tokens, v)
            }
            lastChange = ChangeNote(at: now, summary: "capacity → \(Format.number(v)) tokens", key: key)
        case let .setRefill(v, key):
            try check("refill", v)
            if key == nil { defaultRefill = v }
            for k in buckets.keys where key == nil || key == k { buckets[k]!.refill = v }
            lastChange = ChangeNote(at: now, summary: "refill → \(Format.number(v))/s", key: key)
        case let .setKeying(k):
            keying = k
            rebuildBuckets()
            lastChange = ChangeNote(at: now, summary: "keying → \(k.rawValue)", key: nil)
        case let .setNoisy(on):
            noisy = on
            lastChange = ChangeNote(at: now, summary: on ? "noisy load on" : "noisy load off", key: nil)
        case let .applyPreset(name):
            guard let index = PreviewFleet.presetNames.firstIndex(of: name) else {
                throw Invalid(description: "unknown preset \(name)")
            }
            let rpm = [500.0, 500, 50, 20][index]
            let refill = rpm * 0.8 / 60 / Double(max(1, buckets.count))
            defaultRefill = DashboardUpdate.rounded(refill); defaultCapacity = max(1, (defaultRefill * 4).rounded())
            for k in buckets.keys { buckets[k]!.refill = defaultRefill; buckets[k]!.capacity = defaultCapacity }
            lastChange = ChangeNote(at: now, summary: "preset \(name): refill \(Format.number(defaultRefill))/s per key (80 % of \(Int(rpm)) RPM / \(buckets.count) keys)", key: nil)
        }
    }

func setPaused(_ paused: Bool) {}
func shutdown() {}
}

private func sin(_ x: Double) -> Double {
    // Taylor series after range reduction: enough for a wobble, and no Foundation import.
    var x = x.truncatingRemainder(dividingBy: 2 * Double.pi)
    if x > Double.pi { x -= 2 * Double.pi } else if x < -Double.pi { x += 2 * Double.pi }
    var term = x, sum = x
    for n in 1...9 { term *= -x * x / Double((2 * n) * (2 * n + 1)); sum += term }
    return sum
}
