import Fleet
import Foundation
import TokenBucket

/// The dashboard's view of a running gateway: the fleet's third driver, fed by real requests.
///
/// It sits on the fleet's ``FleetTraffic`` seam: the gateway's metrics follow every request
/// into a ``TrafficLedger`` (arrival, waiting, admission or refusal, the upstream's answer,
/// usage, end), which keeps the same ``FleetMetrics`` as the simulator and gives the same
/// snapshot. So rows, waiting counts, the oldest wait and wait percentiles that count requests
/// still waiting (a request waiting t so far counts as ≥ t) read exactly as in `run` and
/// `--live`. One row per client key (configured name or fingerprint, `(other)` past
/// `tracked_keys`) as clients arrive; groups are the configured tenants, `unlisted` for the rest.
/// Under hierarchical keying each key folds under its tenant's bucket, a row of its own
/// (`tenant:acme`, see ``TenantRows``) counting every request of the tenant's keys.
///
/// The dashboard's edits (capacity, refill, keying, preset) go to the gateway's limits; a
/// key's capacity, refill and tokens are read back from them on every frame. With `[tuning]`
/// on, refill edits are the configured refill (the tuned one is it × the tuning factor), and
/// the frame shows the factor and the rule's last move.
///
/// ```swift
/// let driver = GatewayFleetDriver<ContinuousClock>(server: server, port: 8080)
/// driver.snapshot().keys   // one row per client key seen so far
/// ```
public final class GatewayFleetDriver<C: Clock>: FleetDriver where C.Duration == Duration {
    public var mode: FleetMode { .live }
    public var scenarioName: String { ledger.scenarioName }
    let ledger: TrafficLedger<C>
    let limits: GatewayLimits
    let metrics: GatewayMetrics
    let steering: GatewaySteering
    private var lastChange: ChangeNote?
    /// Tuning moves already noted.
    private var notedMoves = 0

    /// A driver over `limits` and `metrics` (which it starts following), on `clock`.
    /// - Parameters:
    ///   - name: the header's title.
    ///   - upstream: the upstream pane's name and limits (the mock's, when known).
    public init(limits: GatewayLimits, metrics: GatewayMetrics, clock: C, name: String, upstream: UpstreamSpec) {
        self.limits = limits
        self.metrics = metrics
        let steering = GatewaySteering(limits: limits, metrics: metrics)
        self.steering = steering
        ledger = TrafficLedger(name: name, keying: GatewaySteering.fleetKeying(limits.keying), clock: clock,
                               upstream: upstream, steer: { command in try steering.apply(command) },
                               parent: { [limits] row, group in TenantRows.parent(ofRow: row, group: group, keying: limits.keying) })
        metrics.follow(ledger)
    }

    /// Applies a command to the gateway's limits (through the ledger, which records it).
    public func apply(_ command: FleetCommand) throws {
        let summary = steering.summary(command)
        try ledger.apply(command)
        let key: String?
        switch command {
        case let .setCapacity(_, k), let .setRefill(_, k): key = k
        default: key = nil
        }
        lastChange = ChangeNote(at: ledger.now, summary: summary, key: key)
    }

    public func snapshot() -> FleetSnapshot {
        if let tuner = metrics.tuner {
            tuner.tick()
            if tuner.moves != notedMoves, let move = tuner.lastMove {
                notedMoves = tuner.moves
                lastChange = ChangeNote(at: ledger.now, summary: move.summary, key: nil)
            }
        }
        var tenants = Set<String>()
        for row in metrics.rows() {
            let (bucket, parent) = limits.bucket(for: row)
            if let parent, row.id != GatewayMetrics.other { tenants.insert(parent) }
            guard let s = limits.status(bucket: bucket)[.requests] else { continue }
            ledger.keyConfigured(row.id, capacity: s.limit, refillPerSecond: s.refillPerSecond, tokens: s.remaining)
        }
        for tenant in tenants {
            guard let s = limits.parentRequestStatus(tenant: tenant) else { continue }
            ledger.parentConfigured(TenantRows.row(tenant: tenant), capacity: s.limit, refillPerSecond: s.refillPerSecond, tokens: s.remaining)
        }
        var snapshot = ledger.snapshot()
        snapshot.keying = GatewaySteering.fleetKeying(limits.keying)
        snapshot.lastChange = lastChange
        snapshot.tuningFactor = metrics.tuner?.factor
        snapshot.tuningMoves = metrics.tuner?.moves ?? 0
        return snapshot
    }

    public func reportSoFar() -> FleetReport? { ledger.reportSoFar() }

    /// Real time runs on its own: nothing to advance.
    public func advance(by dt: Nanoseconds) {}

    /// Real clients cannot be paused; pausing does nothing.
    public func setPaused(_ paused: Bool) {}

    /// Stops following the traffic (the dashboard's restart makes a new driver, with a new
    /// ledger, over the same gateway; the serve command stops the server when the dashboard ends).
    public func shutdown() {
        metrics.unfollow(ledger)
    }
}

extension GatewayFleetDriver where C == ContinuousClock {
    /// The driver over a server's gateway, on the real clock.
    /// - Parameter port: the port the gateway listens on, shown in the header (so `--listen
    ///   HOST:0` tells on screen which port it picked).
    public convenience init(server: GatewayServer, port: Int? = nil) {
        let name = "serve" + (port.map { " :\($0)" } ?? "") + " → "
            + (server.mockUpstream != nil ? "mock upstream" : server.responder.upstream)
        let mock = server.mockUpstream?.configuration
        let upstream = UpstreamSpec(name: mock != nil ? "mock upstream" : server.responder.upstream,
                                    limits: ProviderLimits(requestsPerMinute: mock?.requestsPerMinute,
                                                           tokensPerMinute: mock?.tokensPerMinute))
        self.init(limits: server.responder.limits, metrics: server.responder.metrics, clock: ContinuousClock(),
                  name: name, upstream: upstream)
    }
}
