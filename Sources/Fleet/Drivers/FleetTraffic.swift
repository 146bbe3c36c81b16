import TokenBucket

/// The seam for a driver whose requests come from outside the fleet: a gateway (`bucketscope
/// serve`) whose HTTP handlers wait on the library's async limiters and call the real provider.
/// It tells the fleet what happened to each request, as it happens; the fleet turns that into
/// the same metrics, ``FleetSnapshot`` and ``FleetReport`` as the simulator and live mode, so
/// the dashboard shows it unchanged. ``TrafficLedger`` is the implementation to use.
///
/// One request's calls, in order (each at most once; `waiting`, `upstreamAnswered` and `used` optional):
/// ```swift
/// let t = traffic.arrived(key: apiKey, group: tenant, cost: tokens)   // reached the limiter
/// traffic.waiting(t)                                // it must wait (not admitted at once)
/// traffic.admitted(t)                               // the limiter admitted it…
/// // …or traffic.refused(t, afterWaiting: false)    // refused at once (or timed out waiting)
/// traffic.upstreamAnswered(t, status: 200, tokens: 812)   // the provider's answer (429s too)
/// traffic.used(t, tokens: 812)                      // or its usage, read after the answer began
/// traffic.completed(t, failed: false)               // the answer reached the client
/// ```
/// Every call takes the time from the implementation's clock, so a gateway passes no times; a
/// test passes a `ManualClock`. Conservation holds as in the core: per key, `requests =
/// admitted + rejected + timed out + waiting`.
public protocol FleetTraffic: AnyObject, Sendable {
    /// A request reached the client-side limiter for bucket `key`, from a client of `group`,
    /// costing `cost` tokens there. Keys and groups are registered on first sight.
    func arrived(key: String, group: String, cost: Double) -> TrafficTicket
    /// It was not admitted at once: it waits in its key's queue.
    func waiting(_ ticket: TrafficTicket)
    /// The limiter admitted it; its wait is the time since ``arrived(key:group:cost:)``.
    func admitted(_ ticket: TrafficTicket)
    /// The limiter refused it: at once (cost, deadline, full queue: `rejected`), or after it had
    /// waited (`timed out`). Nothing further is reported for it.
    func refused(_ ticket: TrafficTicket, afterWaiting: Bool)
    /// The provider answered with HTTP `status` (429 counts as such); `tokens` used, if known.
    func upstreamAnswered(_ ticket: TrafficTicket, status: Int, tokens: Double)
    /// The tokens it used, known only after the answer began (a stream's usage comes at its
    /// end): counted in the provider's tokens of the last minute.
    func used(_ ticket: TrafficTicket, tokens: Double)
    /// The request is over after its admission: answered (`failed: false`) or not.
    func completed(_ ticket: TrafficTicket, failed: Bool)
    /// A key's bucket as the gateway configured it (for the capacity, refill and tokens columns).
    func keyConfigured(_ key: String, capacity: Double, refillPerSecond: Double, tokens: Double)
}

/// One request the fleet is following for a ``FleetTraffic`` driver.
public struct TrafficTicket: Sendable, Hashable {
    public let id: UInt64
}
