/// What a ``SharedLimiter`` does while Redis does not answer (down, unreachable, timing out).
///
/// ```swift
/// let policy = try StoreFailurePolicy(parsing: "local", replicas: 3)   // .local(replicas: 3)
/// ```
public enum StoreFailurePolicy: Sendable, Hashable, CustomStringConvertible {
    /// Admit every request, unlimited: availability over limits.
    case open
    /// Refuse every request (a gateway answers 503): limits over availability.
    case closed
    /// Limit with in-process buckets sized limit ÷ `replicas` (capacity and refill): with the
    /// load spread evenly, the fleet admits about the shared limit; a request larger than a
    /// replica's share takes the whole share.
    case local(replicas: Int)

    /// From a command-line word: `open`, `closed` or `local` (with `replicas` ≥ 1).
    public init(parsing word: String, replicas: Int = 1) throws(PolicyError) {
        switch word {
        case "open": self = .open
        case "closed": self = .closed
        case "local":
            guard replicas >= 1 else { throw PolicyError("--replicas must be >= 1, got \(replicas)") }
            self = .local(replicas: replicas)
        default: throw PolicyError("--on-store-failure must be open, closed or local, got \"\(word)\"")
        }
    }

    public var description: String {
        switch self {
        case .open: "open"
        case .closed: "closed"
        case .local(let n): "local (limit ÷ \(n))"
        }
    }

    /// A policy word that is not one of the three.
    public struct PolicyError: Error, Hashable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
