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
