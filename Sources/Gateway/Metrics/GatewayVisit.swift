import Fleet
import Synchronization

/// One request as the metrics follow it, from ``GatewayMetrics/arrived(_:cost:)`` to its end:
/// the gateway passes it to each later call (`decided`, `upstreamAnswered`, `reconciled`).
///
/// When a fleet ledger follows the traffic (the dashboard), the visit carries the request's
/// ledger ticket in a small object that tells the ledger the request is over when its last copy
/// goes: after the response is sent, after a stream ends or is cut off, on any error path. So no
/// exit of the request handler can leave the ledger holding a request forever. Without a ledger
/// the visit is only the key (no allocation).
public struct GatewayVisit: Sendable {
    public let key: ClientKey
    /// The key's row in the metrics (its id's, or `(other)`'s past `tracked_keys`).
    let row: KeyRow
    let followed: FollowedRequest?
}

/// A request a ``FleetTraffic`` ledger follows; the ledger hears it completed on `deinit`.
final class FollowedRequest: Sendable {
    let traffic: any FleetTraffic
    let ticket: TrafficTicket
    /// The upstream's status code (0: it never answered).
    let status = Atomic<Int>(0)

    init(traffic: any FleetTraffic, ticket: TrafficTicket) {
        self.traffic = traffic
        self.ticket = ticket
    }

    deinit {
        // A request refused at admission is already closed in the ledger: this is then a no-op.
        traffic.completed(ticket, failed: !(200..<300).contains(status.load(ordering: .relaxed)))
    }
}
