import Foundation
import Testing
@testable import Fleet
import TokenBucket

/// Replicas behind a balancer: what local buckets cost (×N admitted at full size, unfairness at
/// limit ÷ N), what a shared store costs (its round trip, its queue), and what skewed clocks do
/// to a store that trusts the replicas' time. One fleet-wide limit of 20 tokens + 10/s throughout.
@Suite struct ReplicaTests {
    /// 6 users at 12 req/s each (72/s, over 7× the limit) through `replicas`, one shared-keying
    /// bucket of 20, 10/s.
    func fleet(_ replicas: ReplicaSpec, keying: Keying = .shared, users: Int = 6, rate: Double = 12) -> Scenario {
        Scenario(name: "t", keying: keying,
                 limits: ClientLimits(perUser: BucketSpec(capacity: 20, refillPerSecond: 10),
                                      shared: BucketSpec(capacity: 20, refillPerSecond: 10)),
                 clients: [ClientSpec(name: "user", group: "users", count: users, arrival: .poisson(rate: rate), deadline: second)],
                 replicas: replicas)
    }

    func replicas(_ s: Scenario, for duration: Int64 = 30 * second, seed: UInt64 = 1) throws -> ReplicaSnapshot {
        let sim = try Simulation(scenario: s, seed: seed)
        sim.run(until: duration)
        #expect(conservationFailures(sim.metrics) == [])
        return try #require(sim.report().replicas)
    }

    // MARK: Admitted against the global limit

    @Test func fullSizeLocalBucketsAdmitAboutNTimesTheLimit() throws {
        let r = try replicas(fleet(ReplicaSpec(count: 3, balancer: .roundRobin, buckets: .localFull)))
        // 20 + 10 × 30 = 320 per replica: each replica's bucket is the whole limit.
        #expect(r.globalLimitTokens == 320)
        #expect(r.overAdmission > 2.95 && r.overAdmission <= 3 + 1e-9, "\(r.overAdmission)")
        for replica in r.replicas { #expect(abs(replica.admitted - 320) <= 1, "r\(replica.number): \(replica.admitted)") }
    }

    @Test func aSharedStoreAdmitsTheLimitOnce() throws {
        let r = try replicas(fleet(ReplicaSpec(count: 3, balancer: .roundRobin, buckets: .shared)))
        // The last half round trip's admissions are counted at the store: at most the limit.
        #expect(r.admittedTokens <= 320 && r.admittedTokens >= 318, "\(r.admittedTokens)")
        #expect(r.overAdmission <= 1)
        #expect(r.storeOps == r.replicas.reduce(0) { $0 + $1.routed })
    }

    @Test func splitLocalBucketsKeepTheLimit() throws {
        let r = try replicas(fleet(ReplicaSpec(count: 4, balancer: .random, buckets: .localSplit)))
        #expect(r.admittedTokens <= 320 && r.admittedTokens >= 310, "\(r.admittedTokens)")
    }

    /// Key-hash routing sends each user to one replica: with per-user buckets that is sticky
    /// routing, and full-size local buckets are exact.
    @Test func keyHashWithPerUserBucketsIsExactEvenWithFullSizeLocalBuckets() throws {
        let r = try replicas(fleet(ReplicaSpec(count: 3, balancer: .keyHash, buckets: .localFull), keying: .perUser, rate: 15))
        #expect(r.globalLimitTokens == 6 * 320)
        #expect(r.overAdmission <= 1 && r.overAdmission > 0.98, "\(r.overAdmission)")
    }

    // MARK: Fairness

    /// The built-in scenario: key-hash puts 3, 1 and 2 of the 6 users on the 3 replicas. At the
    /// limit ÷ 3 each replica admits 10/3 per second whoever sends: the lone user gets three
    /// times what each of the crowded replica's users gets. A shared store serves all alike.
    @Test func splitBucketsUnderAKeyHashBalancerServeIdenticalUsersUnequally() throws {
        var s = Scenario.named("replicas")!
        #expect(s.replicas?.balancer == .keyHash)
        let placement = (1...6).map { ReplicaState.hash("user-\($0)") % 3 }
        #expect(placement.sorted() == [0, 0, 0, 1, 2, 2])
        s.replicas?.buckets = .localSplit
        let split = try replicas(s)
        let users = try #require(split.fairness.first)
        #expect(split.overAdmission <= 1)
        #expect(Double(users.maxAdmitted) >= 2.5 * Double(users.minAdmitted), "\(users)")
        #expect(users.jain < 0.85, "\(users.jain)")
        s.replicas?.buckets = .shared
        let shared = try #require(try replicas(s).fairness.first)
        #expect(shared.jain > 0.95, "\(shared.jain)")   // Poisson noise over ~100 admissions each
    }

    @Test func jainsIndexIsOneForEqualSharesAndOneOverNForOneWinner() {
        #expect(ReplicaSnapshot.jainIndex([5, 5, 5, 5]) == 1)
        #expect(ReplicaSnapshot.jainIndex([8, 0, 0, 0]) == 0.25)
        #expect(ReplicaSnapshot.jainIndex([]) == 1)
    }

    // MARK: What sharing costs

    @Test func everyAdmissionThroughTheStoreTakesItsRoundTripAndLocalOnesNone() throws {
        let rtt = 20 * millisecond
        let sim = try Simulation(scenario: fleet(ReplicaSpec(count: 3, buckets: .shared, storeRoundTrip: rtt)), seed: 1)
        sim.run(until: 20 * second)
        let r = try #require(sim.report().replicas)
        // Round trip + 20 µs of service at 50,000 ops/s; the histogram holds 2-3 digits.
        #expect(r.addedLatencyMs.p50 >= 20 && r.addedLatencyMs.p50 <= 20.3, "\(r.addedLatencyMs)")
        #expect(r.addedLatencyMs.p99 >= 20 && r.addedLatencyMs.max < 20.1)
        // An admitted request's wait counts from its replica: at least the trip to the store.
        #expect(group(sim.report(), "users").waitMs.p50 >= 10)
        let local = try replicas(fleet(ReplicaSpec(count: 3, buckets: .localFull, storeRoundTrip: rtt)), for: 5 * second)
        #expect(local.addedLatencyMs.max == 0 && local.storeOps == 0)
    }

    /// 72 operations a second at a store that serves 50: they queue there, and the queue is the
    /// latency every request pays.
    @Test func aStoreServingFewerOperationsThanArriveQueuesThem() throws {
        let r = try replicas(fleet(ReplicaSpec(count: 3, buckets: .shared, storeOpsPerSecond: 50)), for: 20 * second)
        // Offered load above what the store serves: the report shows it over 100 %.
        #expect(r.storeOpsPerSecond > 70 && r.storeCapacityPerSecond == 50, "\(r.storeOpsPerSecond)")
        #expect(r.storeQueueMaxMs > 5_000, "\(r.storeQueueMaxMs)")
        #expect(r.addedLatencyMs.p99 > 5_000)
    }

    // MARK: Skewed clocks

    /// Clocks at −200, 0 and +200 ms. A store on its own clock does not care; one on the
    /// replicas' clocks lets the replica that runs ahead find every bucket fuller than the
    /// others can: it takes almost all of the limit.
    @Test func aStoreOnTheReplicasClocksHandsTheLimitToTheReplicaAhead() throws {
        var spec = ReplicaSpec(count: 3, balancer: .roundRobin, buckets: .shared, clockSkew: 200 * millisecond)
        #expect((0..<3).map(spec.clockOffset(of:)) == [-200 * millisecond, 0, 200 * millisecond])
        let server = try replicas(fleet(spec))
        let counts = server.replicas.map(\.admitted)
        #expect(counts.max()! - counts.min()! < 40, "\(counts)")
        spec.storeClock = .replica
        let stamped = try replicas(fleet(spec))
        #expect(stamped.replicas[2].admitted > 10 * stamped.replicas[0].admitted, "\(stamped.replicas)")
        // The replica ahead also borrows the refill of its 200 ms lead: about 2 tokens more.
        #expect(stamped.admittedTokens <= 320 + 3, "\(stamped.admittedTokens)")
    }

    // MARK: Determinism, commands, reports

    @Test func theSameSeedGivesTheSameReport() throws {
        let s = fleet(ReplicaSpec(count: 5, balancer: .random, buckets: .shared, clockSkew: 50 * millisecond, storeClock: .replica))
        let a = try Simulation(scenario: s, seed: 9), b = try Simulation(scenario: s, seed: 9)
        a.run(until: 10 * second); b.run(until: 10 * second)
        #expect(a.report().json() == b.report().json())
    }

    @Test func localBucketsAreCopiedPerReplicaAndFollowAKeyingSwitch() throws {
        let sim = try Simulation(scenario: fleet(ReplicaSpec(count: 2, buckets: .localSplit)), seed: 1)
        sim.run(until: 2 * second)
        #expect(sim.snapshot().keys.map(\.key) == ["r1:shared", "r2:shared"])
        #expect(sim.snapshot().keys.allSatisfy { $0.capacity == 10 && $0.refillPerSecond == 5 })
        try sim.apply(.setKeying(.perUser))
        sim.run(until: 4 * second)
        #expect(sim.snapshot().keys.count == 12)
        #expect(sim.snapshot().keys.first?.key == "r1:user-1")
        #expect(conservationFailures(sim.metrics) == [])
    }

    /// A 200 ms round trip keeps admitted requests on their way back to their replicas while
    /// the keying switches from one bucket to six and back: each goes on, counted on the key it
    /// was admitted on.
    @Test func keyingSwitchesWhileTheStoresAnswersAreOnTheirWay() throws {
        let sim = try Simulation(scenario: fleet(ReplicaSpec(count: 3, buckets: .shared, storeRoundTrip: 200 * millisecond)), seed: 3)
        sim.run(until: 1_050 * millisecond)
        try sim.apply(.setKeying(.perUser))
        sim.run(until: 2_130 * millisecond)
        try sim.apply(.setKeying(.shared))
        sim.run(until: 2_170 * millisecond)
        try sim.apply(.setKeying(.perUser))
        sim.run(until: 5 * second)
        #expect(conservationFailures(sim.metrics) == [])
        let r = sim.report()
        // Every admitted request reached the provider (no limits there), but those whose answer
        // from the store is still on its way (half of 200 ms of admissions at most).
        #expect(r.upstream.requests <= r.replicas!.admitted && r.replicas!.admitted - r.upstream.requests <= 20,
                "\(r.upstream.requests) of \(r.replicas!.admitted)")
        #expect(r.keys.reduce(0) { $0 + $1.admitted } == r.replicas!.admitted)
    }

    @Test func theReportShowsTheReplicasInEveryFormat() throws {
        var s = Scenario.named("replicas")!
        s.replicas?.buckets = .shared
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: 10 * second)
        let r = sim.report()
        #expect(r.table().contains("replicas: 3 behind a key-hash balancer, shared buckets (the store on its own clock)"))
        #expect(r.table().contains("store: "))
        #expect(r.json().contains("\"over_admission\": "))
        #expect(r.json().contains("\"added_latency_ms\": {"))
        let lines = r.csv().split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == header.count })
        func col(_ row: [String], _ name: String) -> String { row[header.firstIndex(of: name)!] }
        let fleetRow = try #require(rows.first { $0[0] == "replicas" })
        #expect(col(fleetRow, "admitted") == "\(r.replicas!.admitted)")
        #expect(rows.filter { $0[0] == "replica" }.count == 3)
        #expect(sim.snapshot().replicas == sim.report().replicas)
        // Without replicas, no trace of them.
        #expect(try run("burst", for: second).report().replicas == nil)
        #expect(!(try run("burst", for: second).report().csv().contains("over_admission")))
    }

    @Test func theBucketsOverrideNeedsAScenarioWithReplicas() throws {
        let shared = try Scenario.resolve(FleetOptions(scenario: "replicas", replicaBuckets: .shared))
        #expect(shared.replicas?.buckets == .shared)
        #expect(throws: FleetError.self) { try Scenario.resolve(FleetOptions(scenario: "burst", replicaBuckets: .shared)) }
    }
}

/// `[replicas]` in a scenario file: every field, its range, its message.
@Suite struct ReplicaScenarioFileTests {
    let header = """
        name = "x"

        [[clients]]
        name = "a"
        rate = 1

        [replicas]

        """

    func error(_ fields: String) -> String {
        do {
            _ = try Scenario.parse(toml: header + fields, file: "x.toml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func everyFieldIsRead() throws {
        let s = try Scenario.parse(toml: header + """
            count = 4
            balancer = "random"
            buckets = "shared"
            store_rtt = "2ms"
            store_ops_per_s = 1000
            clock_skew = "30ms"
            store_clock = "replica"
            """)
        #expect(s.replicas == ReplicaSpec(count: 4, balancer: .random, buckets: .shared, storeRoundTrip: 2 * millisecond,
                                          storeOpsPerSecond: 1_000, clockSkew: 30 * millisecond, storeClock: .replica))
        #expect(try Scenario.parse(toml: header).replicas == ReplicaSpec())
    }

    @Test(arguments: [
        ("count = 0", "x.toml:8: count: must be at least 1, got 0 (valid: 1 to 64)"),
        ("count = 65", "x.toml:8: count: must be at most 64, got 65 (valid: 1 to 64)"),
        ("count = 2.5", "x.toml:8: count: expected a whole number, got 2.5 (valid: 1 to 64)"),
        ("balancer = \"sticky\"", "x.toml:8: balancer: expected one of round-robin, random, key-hash, got \"sticky\""),
        ("buckets = \"redis\"", "x.toml:8: buckets: expected one of local-full, local-split, shared, got \"redis\""),
        ("store_rtt = \"11s\"", "x.toml:8: store_rtt: must be at most 10s, got 11s (valid: 0s to 10s)"),
        ("store_ops_per_s = 0", "x.toml:8: store_ops_per_s: must be > 0, got 0 (valid: 1 to 1e9 operations per second)"),
        ("clock_skew = \"2h\"", "x.toml:8: clock_skew: must be at most 1h, got 2h (valid: 0s to 1h)"),
        ("store_clock = \"gps\"", "x.toml:8: store_clock: expected one of server, replica, got \"gps\""),
        ("replicas = 3", "x.toml:8: replicas: unknown field"),
    ])
    func aBadFieldIsNamedWithItsRange(field: String, message: String) {
        #expect(error(field + "\n") == message)
    }

    @Test func localBucketsForEveryReplicaAreBounded() {
        let s = Scenario(name: "big", keying: .perUser,
                         clients: [ClientSpec(name: "u", group: "u", count: 100_000, arrival: .poisson(rate: 0.001))],
                         replicas: ReplicaSpec(count: 20))
        #expect(throws: ResourceLimitError.self) { try s.checkTotals() }
        var shared = s
        shared.replicas?.buckets = .shared
        #expect(throws: Never.self) { try shared.checkTotals() }
        var bad = s
        bad.replicas?.count = 0
        #expect(throws: FleetError.self) { try Simulation(scenario: bad) }
    }
}
