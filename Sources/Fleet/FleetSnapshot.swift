import TokenBucket

// The contract between the fleet (simulated or live) and everything that shows it: immutable,
// Sendable values a dashboard or report reads, and the commands that steer a running fleet.

/// How requests are mapped to buckets.
public enum Keying: String, CaseIterable, Sendable, Codable {
    /// One bucket shared by every client.
    case shared
    /// One bucket per user (client identity).
    case perUser = "per-user"
    /// One bucket per tenant (API key), shared by that tenant's users.
    case perTenant = "per-tenant"
    /// A bucket per user under a per-tenant (or global) parent: admitted only when both admit.
    case hierarchical

    /// The next strategy in the cycle the dashboard's `s` key walks.
    /// Per-user and shared come first, so one press shows what isolation buys.
    public var next: Keying {
        switch self {
        case .perUser: return .shared
        case .shared: return .perTenant
        case .perTenant: return .hierarchical
        case .hierarchical: return .perUser
        }
    }
}

/// Whether the numbers come from the discrete-event simulator or from real tasks on a real clock.
public enum FleetMode: String, Sendable, Codable {
    case simulated
    case live
}

/// One bucket as the dashboard shows it.
public struct KeySnapshot: Sendable, Equatable {
    public var key: String
    /// Group of the clients using this bucket (`quiet`, `noisy`, ...); `mixed` when shared.
    public var group: String
    public var capacity: Double
    public var refillPerSecond: Double
    /// Tokens available now (0 when in debt).
    public var tokens: Double
    /// Requests waiting on this bucket now.
    public var waiters: Int
    /// Age of the oldest waiter, in seconds (0 when none).
    public var oldestWaitSeconds: Double
    public var requests: Int
    public var admitted: Int
    public var rejected: Int
    public var upstream429: Int
    public var maxQueue: Int
    public var waitMs: WaitPercentiles
    /// Time series, oldest first, one sample per `FleetSnapshot.sampleInterval`.
    public var admittedPerSecond: [Double]
    public var tokenSeries: [Double]
    public var queueSeries: [Double]
    /// Requests that gave up while waiting (deadline passed after a re-plan). Added by fleet.
    public var timedOut: Int

    public init(key: String, group: String, capacity: Double, refillPerSecond: Double, tokens: Double,
                waiters: Int, oldestWaitSeconds: Double, requests: Int, admitted: Int, rejected: Int,
                upstream429: Int, maxQueue: Int, waitMs: WaitPercentiles,
                admittedPerSecond: [Double], tokenSeries: [Double], queueSeries: [Double], timedOut: Int = 0) {
        self.timedOut = timedOut
        self.key = key; self.group = group; self.capacity = capacity; self.refillPerSecond = refillPerSecond
        self.tokens = tokens; self.waiters = waiters; self.oldestWaitSeconds = oldestWaitSeconds
        self.requests = requests; self.admitted = admitted; self.rejected = rejected
        self.upstream429 = upstream429; self.maxQueue = maxQueue; self.waitMs = waitMs
        self.admittedPerSecond = admittedPerSecond; self.tokenSeries = tokenSeries; self.queueSeries = queueSeries
    }
}

/// Wait-time percentiles in milliseconds.
public struct WaitPercentiles: Sendable, Equatable, Codable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
    public init(p50: Double = 0, p90: Double = 0, p99: Double = 0, max: Double = 0) {
        self.p50 = p50; self.p90 = p90; self.p99 = p99; self.max = max
    }
}

/// A group of clients (`quiet`, `noisy`, ...), for the isolation pane and reports.
public struct GroupSnapshot: Sendable, Equatable {
    public var name: String
    public var clients: Int
    public var requests: Int
    public var admitted: Int
    public var rejected: Int
    public var upstream429: Int
    public var waitMs: WaitPercentiles
    /// Admitted per second over the recent window.
    public var throughput: Double
    /// This group's share of everything admitted recently, 0...1.
    public var shareOfAdmitted: Double
    /// Admitted per second, one sample per `sampleInterval`, oldest first.
    public var throughputSeries: [Double]
    /// p99 wait (ms) per sample, oldest first.
    public var p99Series: [Double]
    /// Requests of this group waiting at a client-side bucket now.
    public var waiting: Int
    /// How long the longest-waiting of them has waited so far, in seconds (0 when none). Unlike
    /// the percentiles, which count admitted requests only, this shows starvation at once.
    public var oldestWaitSeconds: Double

    public init(name: String, clients: Int, requests: Int, admitted: Int, rejected: Int, upstream429: Int,
                waitMs: WaitPercentiles, throughput: Double, shareOfAdmitted: Double,
                throughputSeries: [Double] = [], p99Series: [Double] = [], waiting: Int = 0,
                oldestWaitSeconds: Double = 0) {
        self.name = name; self.clients = clients; self.requests = requests; self.admitted = admitted
        self.rejected = rejected; self.upstream429 = upstream429; self.waitMs = waitMs
        self.throughput = throughput; self.shareOfAdmitted = shareOfAdmitted
        self.throughputSeries = throughputSeries; self.p99Series = p99Series
        self.waiting = waiting; self.oldestWaitSeconds = oldestWaitSeconds
    }
}

/// The rate-limited provider behind the fleet.
public struct UpstreamSnapshot: Sendable, Equatable {
    public var name: String
    /// Limits (nil when the provider does not enforce that dimension).
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    /// Use over the last minute, for "used / limit" gauges.
    public var requestsLastMinute: Double
    public var tokensLastMinute: Double
    public var requests: Int
    public var status429: Int
    /// 429s / requests over the recent window, 0...1.
    public var rate429: Double
    public var inFlight: Int

    public init(name: String, requestsPerMinute: Double?, tokensPerMinute: Double?, requestsLastMinute: Double,
                tokensLastMinute: Double, requests: Int, status429: Int, rate429: Double, inFlight: Int) {
        self.name = name; self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute
        self.requestsLastMinute = requestsLastMinute; self.tokensLastMinute = tokensLastMinute
        self.requests = requests; self.status429 = status429; self.rate429 = rate429; self.inFlight = inFlight
    }
}

/// What the last parameter change did, for the detail pane ("refill 2/s → 4/s: p99 1.8 s → 0.4 s").
public struct ChangeNote: Sendable, Equatable {
    public var at: Nanoseconds
    public var summary: String
    /// Key it applied to, or nil for every key.
    public var key: String?
    public init(at: Nanoseconds, summary: String, key: String?) {
        self.at = at; self.summary = summary; self.key = key
    }
}

/// Everything a frame needs, taken at one instant.
public struct FleetSnapshot: Sendable, Equatable {
    public var scenario: String
    public var mode: FleetMode
    public var keying: Keying
    /// Simulated (or live, since start) time.
    public var now: Nanoseconds
    /// Spacing of the time-series samples.
    public var sampleInterval: Nanoseconds
    public var noisyEnabled: Bool
    public var keys: [KeySnapshot]
    public var groups: [GroupSnapshot]
    public var upstream: UpstreamSnapshot
    public var lastChange: ChangeNote?
    /// The tuning controller's current refill factor (1 = untouched), nil when it is off.
    public var tuningFactor: Double?
    /// How many times the tuning controller has moved the refill. Added by fleet.
    public var tuningMoves: Int

    public init(scenario: String, mode: FleetMode, keying: Keying, now: Nanoseconds, sampleInterval: Nanoseconds,
                noisyEnabled: Bool, keys: [KeySnapshot], groups: [GroupSnapshot], upstream: UpstreamSnapshot,
                lastChange: ChangeNote?, tuningFactor: Double?, tuningMoves: Int = 0) {
        self.tuningMoves = tuningMoves
        self.scenario = scenario; self.mode = mode; self.keying = keying; self.now = now
        self.sampleInterval = sampleInterval; self.noisyEnabled = noisyEnabled; self.keys = keys
        self.groups = groups; self.upstream = upstream; self.lastChange = lastChange; self.tuningFactor = tuningFactor
    }
}

/// A change to a running fleet. Every command takes effect on the running buckets at once.
public enum FleetCommand: Sendable, Equatable {
    /// Set capacity of one key's bucket, or of every bucket (and the default) when `key` is nil.
    case setCapacity(Double, key: String?)
    /// Set refill (tokens per second) of one key, or of all when `key` is nil.
    case setRefill(Double, key: String?)
    case setKeying(Keying)
    /// Turn the noisy neighbours' load on or off.
    case setNoisy(Bool)
    /// Size every client bucket from a provider preset (by its name in `ProviderPreset.all`).
    case applyPreset(String)
}

/// A running fleet the dashboard steers: the simulator, or live mode.
///
/// Calls come from one isolation domain (the dashboard's loop); implementations that run work
/// elsewhere (live mode) hand back copies.
public protocol FleetDriver: AnyObject {
    var mode: FleetMode { get }
    var scenarioName: String { get }
    /// Moves simulated time forward by `dt` (the simulator); live mode ignores it (real time runs).
    func advance(by dt: Nanoseconds)
    /// The current state, for one frame.
    func snapshot() -> FleetSnapshot
    /// Applies a command; throws a `BucketError` (or other error with a message) for bad values.
    func apply(_ command: FleetCommand) throws
    /// Pauses or resumes arrivals (live mode; the simulator pauses by not being advanced).
    func setPaused(_ paused: Bool)
    /// Stops everything (live mode cancels its tasks). Idempotent.
    func shutdown()
}
