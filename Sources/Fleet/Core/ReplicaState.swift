import TokenBucket

/// The replicas' side of the fleet core: the balancer's state, the shared store modelled as one
/// server (a round trip away, serving operations one at a time at its rate, first come first
/// served), and what the replicas admitted and refused. See ``ReplicaSpec``.
struct ReplicaState {
    let spec: ReplicaSpec
    /// Per client: its replica under key-hash balancing.
    let clientReplica: [Int32]
    /// Per replica: its clock's offset from true time, ns.
    let clockOffset: [Int64]
    var nextRoundRobin: Int32 = 0
    var rng: Xoshiro256
    /// Time one store operation takes to serve, ns (1 / store_ops_per_s).
    let storeService: Int64
    /// When the store's server is free again, ns.
    var storeFreeAt: Int64 = 0
    var storeOps = 0
    /// Longest a store operation queued at the store, ns.
    var storeQueueMax: Int64 = 0
    /// Store operations per whole second, for the recent rate.
    var storeOpsWindow = SecondWindow(seconds: 10)
    /// Per store operation: the time from the request's arrival at its replica until the
    /// replica has the store's answer (round trip + queueing + service), ns.
    var addedLatency = WaitRecorder()
    /// Per replica: requests the balancer sent there (first tries and retries), those its
    /// limiter admitted, and those it refused.
    var routed: [Int]
    var admitted: [Int]
    var refused: [Int]
    /// Per client: requests admitted.
    var clientAdmitted: [Int]
    /// Cost of every admitted request, nano-tokens.
    var admittedUnits: Int64 = 0
    /// A shared store on the replicas' clocks: each bucket's theoretical arrival time (GCRA's
    /// TAT, ns on the stamps the replicas sent), per keying, per key of that keying's table.
    var stampedTAT: [Keying: [Double]] = [:]

    init(_ spec: ReplicaSpec, clients: [FleetCore.Client], seed: UInt64) {
        self.spec = spec
        let n = spec.count
        clientReplica = clients.map { Int32(Self.hash($0.name) % UInt64(n)) }
        clockOffset = (0..<n).map { spec.clockOffset(of: $0) }
        rng = Xoshiro256(seed: seed, stream: 0x5245_504C)   // "REPL": apart from the clients' streams
        storeService = Swift.max(1, Int64((1e9 / spec.storeOpsPerSecond).rounded()))
        routed = Array(repeating: 0, count: n)
        admitted = Array(repeating: 0, count: n)
        refused = Array(repeating: 0, count: n)
        clientAdmitted = Array(repeating: 0, count: clients.count)
    }

    /// Copies of the keying's buckets the table holds: one per replica with local buckets.
    var localCopies: Int { spec.buckets == .shared ? 1 : spec.count }

    /// Whether the store's decisions read the replicas' stamps rather than its own clock.
    var stampsFromReplicas: Bool { spec.buckets == .shared && spec.storeClock == .replica && spec.clockSkew > 0 }

    /// FNV-1a, 64 bit, then MurmurHash3's finaliser (FNV alone leaves names that differ in
    /// their last digit in a cycle modulo a power of two): the same replica for a client name
    /// on every machine and every run, whatever the seed.
    static func hash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// The replica the balancer picks for a request of client `c`.
    mutating func pick(client c: Int) -> Int32 {
        let n = Int32(spec.count)
        switch spec.balancer {
        case .roundRobin:
            let r = nextRoundRobin
            nextRoundRobin = r + 1 == n ? 0 : r + 1
            return r
        case .random: return Int32(rng.next() % UInt64(n))
        case .keyHash: return clientReplica[c]
        }
    }

    /// One operation reaching the store at `t`: when the store has decided (its service ends).
    mutating func serve(arrivingAt t: Int64) -> Int64 {
        let start = Swift.max(t, storeFreeAt)
        storeQueueMax = Swift.max(storeQueueMax, start - t)
        storeFreeAt = start + storeService
        storeOps &+= 1
        storeOpsWindow.add(1, at: t)
        return storeFreeAt
    }
}
