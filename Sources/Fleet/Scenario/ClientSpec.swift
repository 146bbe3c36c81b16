import TokenBucket

/// One kind of client, replicated `count` times (users `<name>-1` … `<name>-<count>`; a single
/// client is named `<name>`).
public struct ClientSpec: Sendable, Equatable {
    public var name: String
    public var group: String
    /// Tenant (API key). Default: the client's own name, so tenants and users coincide.
    public var tenant: String
    public var count: Int
    public var arrival: Arrival
    public var cost: CostModel
    public var retry: RetryPolicy
    /// Give-up deadline from the first attempt's arrival; nil waits forever.
    public var deadline: Nanoseconds?
    /// Whether `setNoisy(false)` silences it.
    public var noisy: Bool

    public init(name: String, group: String, tenant: String? = nil, count: Int = 1, arrival: Arrival,
                cost: CostModel = .request, retry: RetryPolicy = .sdkDefault, deadline: Nanoseconds? = nil,
                noisy: Bool = false) {
        self.name = name; self.group = group; self.tenant = tenant ?? name; self.count = count
        self.arrival = arrival; self.cost = cost; self.retry = retry; self.deadline = deadline; self.noisy = noisy
    }
}
