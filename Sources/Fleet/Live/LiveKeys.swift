import Synchronization
import TokenBucket

/// One client-side bucket of a live fleet: the library's async `Bucket` on the
/// `ContinuousClock`, with what the fleet needs to know about it.
final class LiveKey: Sendable {
    let name: String
    let bucket: Bucket<ContinuousClock>
    /// Index in the fleet's ``FleetMetrics``.
    let metricsKey: Int
    /// A parent (tenant or global) bucket in hierarchical keying.
    let isParent: Bool
    /// The parent a request admitted here must also pass (hierarchical keying).
    let parent: LiveKey?
    /// Bumped before every re-plan (reconfiguration), so a request refused by its deadline can
    /// be told apart: refused at once (rejected) or pushed past it while queued (timed out).
    let replans = Atomic<UInt64>(0)
    /// What this bucket admitted, when auditing (tests): the token-conservation check after
    /// shutdown replays it.
    let ledger = Mutex(Ledger())
    let auditing: Bool

    struct Ledger: Sendable {
        /// Admission instants (offsets from the bucket's origin) and costs (nano-tokens).
        var admissions: [(at: Nanoseconds, units: Int64)] = []
    }

    /// Tasks inside this bucket's `acquire`, by order of entry: shutdown cancels the latest first.
    private let waiting = Mutex(WaitList())

    private struct WaitList {
        var next: UInt64 = 0
        /// Entry number → registered task id.
        var entries: [UInt64: UInt64] = [:]
    }

    /// Notes that the current task enters `acquire`; pass the result to ``leave(_:)``.
    func enter() -> UInt64 {
        let task = TaskRegistry.currentID
        return waiting.withLock { w in
            w.next &+= 1
            w.entries[w.next] = task
            return w.next
        }
    }

    func leave(_ entry: UInt64) { _ = waiting.withLock { $0.entries.removeValue(forKey: entry) } }

    /// Ids of the tasks waiting here, latest entry first.
    func waitersLatestFirst() -> [UInt64] {
        waiting.withLock { w in w.entries.sorted { $0.key > $1.key }.map(\.value) }
    }

    /// The bucket's origin on the fleet's timeline: admission offsets + this = fleet time.
    let origin: Nanoseconds

    init(name: String, configuration: BucketConfiguration, metricsKey: Int, isParent: Bool, parent: LiveKey?,
         clock: LiveClock, auditing: Bool) {
        self.auditing = auditing
        self.name = name
        self.bucket = Bucket(configuration)
        self.origin = LiveClock.nanoseconds(clock.origin.duration(to: bucket.origin))
        self.metricsKey = metricsKey
        self.isParent = isParent
        self.parent = parent
    }

    /// The admission instant of `a` on the fleet's timeline.
    func admittedAt(_ a: Admission) -> Nanoseconds { origin + LiveClock.nanoseconds(a.admittedAt) }

    func record(_ a: Admission, units: Int64) {
        guard auditing else { return }
        ledger.withLock { $0.admissions.append((LiveClock.nanoseconds(a.admittedAt), units)) }
    }

    /// Changes capacity and refill now through the library's live `reconfigure`: waiters keep
    /// their order and are re-planned at the new rate.
    func reconfigure(_ configuration: BucketConfiguration) {
        replans.add(1, ordering: .sequentiallyConsistent)
        bucket.reconfigure(configuration)
    }
}

/// The buckets of one keying strategy, as ``SimCore``'s `KeyTable` builds them: same names,
/// same groups, same specs.
struct LiveKeyTable: Sendable {
    var keying: Keying
    var keys: [LiveKey] = []
    /// Refill of each key before the tuning factor (tokens per second).
    var baseRefill: [Double] = []
    /// Per client: index of its key (the child in hierarchical keying).
    var clientKey: [Int] = []

    var userLevel: [Int] { keys.indices.filter { !keys[$0].isParent } }

    func index(of name: String) throws -> Int {
        if let i = keys.firstIndex(where: { $0.name == name }) { return i }
        let names = keys.prefix(8).map(\.name).joined(separator: ", ")
        throw FleetError.invalid("no key \"\(name)\" under \(keying.rawValue) keying (keys: \(names)\(keys.count > 8 ? ", ..." : ""))")
    }

    /// The buckets `keying` creates for `clients`, registered in `metrics` at `now`.
    static func build(_ keying: Keying, clients: [LiveClient], tenants: [String], limits: ClientLimits,
                      tuningFactor: Double, metrics: inout FleetMetrics, clock: LiveClock,
                      auditing: Bool = false) throws -> LiveKeyTable {
        let now = clock.now()
        var t = LiveKeyTable(keying: keying)
        let groupNames = metrics.groups.map(\.name)
        func groupOf(_ members: [Int]) -> String {
            let gs = Set(members.map { clients[$0].group })
            return gs.count == 1 ? groupNames[gs.first!] : "mixed"
        }
        func addKey(_ name: String, _ spec: BucketSpec, members: [Int], parent: LiveKey?) throws -> Int {
            let config = try spec.configuration().scaled(refill: tuningFactor)
            // Charts for the first 256 keys of each strategy and every parent, as the simulator.
            let mk = metrics.addKey(name, group: groupOf(members), capacity: config.capacity,
                                    refillPerSecond: config.refill.perSecond, at: now,
                                    series: t.keys.count < SimCore.chartedKeys)
            t.keys.append(LiveKey(name: name, configuration: config, metricsKey: mk, isParent: false, parent: parent, clock: clock,
                                  auditing: auditing))
            t.baseRefill.append(spec.refillPerSecond)
            return t.keys.count - 1
        }
        let all = Array(clients.indices)
        switch keying {
        case .shared:
            let k = try addKey("shared", limits.shared, members: all, parent: nil)
            t.clientKey = Array(repeating: k, count: clients.count)
        case .perUser:
            for c in all { t.clientKey.append(try addKey(clients[c].name, limits.perUser, members: [c], parent: nil)) }
        case .perTenant:
            var keyOfTenant: [Int] = []
            for (i, name) in tenants.enumerated() {
                keyOfTenant.append(try addKey(name, limits.perTenant, members: all.filter { clients[$0].tenant == i }, parent: nil))
            }
            t.clientKey = all.map { keyOfTenant[clients[$0].tenant] }
        case .hierarchical:
            // The simulator registers users, then parents; a child holds its parent, so the
            // parents are made first with the metrics indices they are about to get.
            var parents: [(name: String, members: [Int])] = []
            switch limits.parentScope {
            case .global: parents = [("global", all)]
            case .tenant: parents = tenants.enumerated().map { i, n in ("tenant:" + n, all.filter { clients[$0].tenant == i }) }
            }
            let config = try limits.parent.configuration().scaled(refill: tuningFactor)
            let firstParentMetric = metrics.keys.count + clients.count
            let parentKeys = parents.indices.map { p in
                LiveKey(name: parents[p].name, configuration: config, metricsKey: firstParentMetric + p, isParent: true, parent: nil, clock: clock,
                        auditing: auditing)
            }
            var parentOf = Array(repeating: 0, count: clients.count)
            for (p, members) in parents.map(\.members).enumerated() { for c in members { parentOf[c] = p } }
            for c in all {
                t.clientKey.append(try addKey(clients[c].name, limits.perUser, members: [c], parent: parentKeys[parentOf[c]]))
            }
            for (p, parent) in parents.enumerated() {
                let mk = metrics.addKey(parent.name, group: groupOf(parent.members), capacity: config.capacity,
                                        refillPerSecond: config.refill.perSecond, at: now, series: true)
                precondition(mk == parentKeys[p].metricsKey)
                t.keys.append(parentKeys[p])
                t.baseRefill.append(limits.parent.refillPerSecond)
            }
        }
        return t
    }
}

/// A client of a live fleet: one replica of a ``ClientSpec``, named and numbered as the
/// simulator names them.
struct LiveClient: Sendable {
    var name: String
    var group: Int
    var tenant: Int
    var arrival: Arrival
    var cost: CostModel
    var retry: RetryPolicy
    /// Give-up deadline after the first attempt, ns (nil: none).
    var deadline: Nanoseconds?
    var noisy: Bool

    /// Every client of `scenario`, with the tenant names in order of first appearance.
    static func all(_ scenario: Scenario) -> ([LiveClient], [String]) {
        let groupNames = scenario.groupNames
        var tenants: [String] = []
        var clients: [LiveClient] = []
        for spec in scenario.clients {
            let t: Int
            if let i = tenants.firstIndex(of: spec.tenant) { t = i } else { tenants.append(spec.tenant); t = tenants.count - 1 }
            for i in 0..<spec.count {
                clients.append(LiveClient(name: spec.count == 1 ? spec.name : "\(spec.name)-\(i + 1)",
                                          group: groupNames.firstIndex(of: spec.group)!, tenant: t, arrival: spec.arrival,
                                          cost: spec.cost, retry: spec.retry, deadline: spec.deadline, noisy: spec.noisy))
            }
        }
        return (clients, tenants)
    }
}
