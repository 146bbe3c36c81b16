/// Counts of one client key (or of `(other)`), for the dashboard and the summary.
public struct KeyStats: Sendable, Equatable {
    /// The dashboard group: the configured tenant, `unlisted` for keys not in the config.
    public var group: String
    /// The tenant the limits use (an unlisted key is its own tenant).
    public var tenant: String
    /// Listed in the configuration.
    public var known: Bool
    public var requests = 0
    public var admitted = 0
    /// Answered 429 by the gateway.
    public var limited = 0
    /// Answered 429 by the upstream.
    public var upstream429 = 0
    /// Waiting for admission now.
    public var waiting = 0
    public var maxWaiting = 0
    public var tokensEstimated = 0
    /// Tokens the upstream reported in `usage`.
    public var tokensReconciled = 0
    /// Upstream answers by status code (502/504 failures are not told apart by key).
    public var upstreamStatus: [Int: Int] = [:]

    public init(group: String, tenant: String, known: Bool) {
        self.group = group; self.tenant = tenant; self.known = known
    }
}
