import TokenBucket

/// One request of a stream: arrival, key, cost, and how long it is in progress once admitted.
public struct TrafficRequest: Sendable, Hashable {
    /// Arrival instant, ns.
    public var at: Nanoseconds
    /// Index into ``Traffic/keys``.
    public var key: Int32
    /// Cost, nano-tokens.
    public var cost: Int64
    /// Service time once admitted, ns (read by the concurrency limit).
    public var service: Nanoseconds

    public init(at: Nanoseconds, key: Int32, cost: Int64, service: Nanoseconds) {
        self.at = at; self.key = key; self.cost = cost; self.service = service
    }
}

/// A stream of requests in arrival order, with its keys: what `compare` feeds every algorithm.
///
/// ```swift
/// var t = Traffic()
/// t.append(at: 0, key: "alice", cost: TokenUnits.perToken, service: 1_000_000_000)
/// ```
public struct Traffic: Sendable {
    public private(set) var keys: [String] = []
    private var keyIndex: [String: Int32] = [:]
    public private(set) var requests: [TrafficRequest] = []

    public init() {}

    /// The index of `key`, adding it on first sight.
    public mutating func key(_ name: String) -> Int32 {
        if let k = keyIndex[name] { return k }
        let k = Int32(keys.count)
        keys.append(name)
        keyIndex[name] = k
        return k
    }

    /// Appends a request; arrivals must not go backwards.
    public mutating func append(at: Nanoseconds, key: String, cost: Int64, service: Nanoseconds) {
        append(TrafficRequest(at: at, key: self.key(key), cost: cost, service: service))
    }

    public mutating func append(_ request: TrafficRequest) {
        precondition(requests.last.map { $0.at <= request.at } ?? true, "traffic must be in arrival order")
        requests.append(request)
    }

    public mutating func reserveCapacity(_ n: Int) { requests.reserveCapacity(n) }

    /// The same stream with every request costing one token: limits then count requests.
    public func countingRequests() -> Traffic {
        var t = self
        for i in t.requests.indices { t.requests[i].cost = TokenUnits.perToken }
        return t
    }

    /// Mean service time, ns (0 for no requests).
    public var meanService: Nanoseconds {
        guard !requests.isEmpty else { return 0 }
        let total = requests.reduce(Int128(0)) { $0 + Int128($1.service) }
        return Int64(total / Int128(requests.count))
    }

    /// Time from the first arrival to the last, ns.
    public var span: Nanoseconds {
        guard let a = requests.first, let b = requests.last else { return 0 }
        return b.at - a.at
    }
}
