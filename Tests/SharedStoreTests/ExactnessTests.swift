import RedisTestServer
import SharedStore
import Testing
import TokenBucket

@Suite("Lua GCRA against BucketState on replayed traces")
struct LuaExactnessTests {
    static let rates: [(perSecond: Double, seed: UInt64)] = [(0.8, 11), (3, 12), (7, 13), (1000, 14)]

    @Test("admission instants equal BucketState's to the ns at 0.8/s, 3/s, 7/s, 1000/s (2,000 requests each)",
          arguments: rates)
    func reserveMatches(_ rate: (perSecond: Double, seed: UInt64)) async throws {
        let client = RedisServer.shared.client()
        defer { client.shutdown() }
        let buckets = RedisBuckets(client: client, prefix: uniquePrefix())
        let config = try BucketConfiguration(capacity: 5, refillPerSecond: rate.perSecond)
        var reference = BucketState(config)
        var worst: Nanoseconds = 0
        var waited = 0
        for (t, milli) in exactnessTrace(refillPerSecond: rate.perSecond, seed: rate.seed, count: 2_000) {
            let expected = reference.reserve(units: milli * 1_000_000, at: epoch2026 + t)
            let limit = SharedLimit(key: "k", configuration: config, cost: Double(milli) / 1000)
            let got = try #require(try await buckets.acquire([limit], maxWait: nil, at: epoch2026 + t).reservation)
            worst = max(worst, abs(got.admitAt - expected.admitAt))
            if expected.wait > 0 { waited += 1 }
        }
        #expect(worst == 0, "worst difference \(worst) ns")
        #expect(waited > 500, "the trace must keep the bucket busy: \(waited) of 2,000 waited")
    }

    @Test("two limits admitted together at the later of their instants, as LLMLimiterState (1,500 requests)")
    func twoLimitsMatch() async throws {
        let client = RedisServer.shared.client()
        defer { client.shutdown() }
        let buckets = RedisBuckets(client: client, prefix: uniquePrefix())
        let rpm = try BucketConfiguration(capacity: 3, refill: Rate(50, per: .seconds(60)))      // 5/6 per s
        let tpm = try BucketConfiguration(capacity: 4, refill: Rate(numerator: 7, denominator: 3))
        var a = BucketState(rpm), b = BucketState(tpm)
        var g = SeededGenerator(seed: 99)
        var worst: Nanoseconds = 0
        for (t, milli) in exactnessTrace(refillPerSecond: 1, seed: 21, count: 1_500) {
            let now = epoch2026 + t
            let tokens = Int64(g.next() % 4_000) + 1   // thousandths, up to 4 tokens
            let admit = max(a.admissionTime(units: milli * 1_000_000 % 3_000_000_000 + 1, at: now),
                            b.admissionTime(units: tokens * 1_000_000, at: now))
            let ra = a.reserve(units: milli * 1_000_000 % 3_000_000_000 + 1, at: now, notBefore: admit)
            _ = b.reserve(units: tokens * 1_000_000, at: now, notBefore: admit)
            let limits = [
                SharedLimit(key: "rpm", configuration: rpm, cost: Double(milli * 1_000_000 % 3_000_000_000 + 1) / 1e9),
                SharedLimit(key: "tpm", configuration: tpm, cost: Double(tokens) / 1000),
            ]
            let got = try #require(try await buckets.acquire(limits, maxWait: nil, at: now).reservation)
            worst = max(worst, abs(got.admitAt - ra.admitAt))
        }
        #expect(worst == 0, "worst difference \(worst) ns")
    }

    @Test("reserve, cancel, refund and charge interleaved: same admissions and same tokens given back (3,000 operations)")
    func mixedOperationsMatch() async throws {
        let client = RedisServer.shared.client()
        defer { client.shutdown() }
        let buckets = RedisBuckets(client: client, prefix: uniquePrefix())
        let config = try BucketConfiguration(capacity: 6, refillPerSecond: 3)
        var reference = BucketState(config)
        var g = SeededGenerator(seed: 7)
        var outstanding: [(Reservation, SharedReservation)] = []
        var t: Nanoseconds = 0
        var cancels = 0, partial = 0
        for _ in 0..<3_000 {
            t += Nanoseconds(g.next() % 400_000_000)
            let now = epoch2026 + t
            let dice = g.next() % 100
            if dice < 60 || outstanding.isEmpty {
                let milli = Int64(g.next() % 3_000) + 1
                let r = reference.reserve(units: milli * 1_000_000, at: now)
                let s = try #require(try await buckets.acquire(
                    [SharedLimit(key: "k", configuration: config, cost: Double(milli) / 1000)], maxWait: nil, at: now).reservation)
                #expect(s.admitAt == r.admitAt)
                if s.admitAt != r.admitAt { return }
                outstanding.append((r, s))
            } else if dice < 85 {
                let i = Int(g.next() % UInt64(outstanding.count))
                var (r, s) = outstanding.remove(at: i)
                let cost = r.cost
                let expected = reference.cancel(&r, at: now)
                let got = try await buckets.cancel(&s, at: now)
                #expect(got == [expected], "cancel at \(t)")
                if expected > 0 { cancels += 1 }
                if expected > 0 && expected < cost { partial += 1 }
            } else {
                let tokens = Double(g.next() % 2_000 + 1) / 1000
                if g.next() % 2 == 0 {
                    try reference.refund(tokens, at: now)
                    try await buckets.reconcile([(SharedLimit(key: "k", configuration: config, cost: 1), -tokens)], at: now)
                } else {
                    try reference.charge(tokens, at: now)
                    try await buckets.reconcile([(SharedLimit(key: "k", configuration: config, cost: 1), tokens)], at: now)
                }
            }
            if outstanding.count > 20 { outstanding.removeFirst() }
        }
        let level = try await buckets.levels([("k", config)], at: epoch2026 + t)
        #expect(abs(level[0] - reference.balance(at: epoch2026 + t)) < 1e-9)
        #expect(cancels > 50, "cancels that gave something back: \(cancels)")
        #expect(partial > 5, "cancels that gave back part of the cost: \(partial)")
    }
}
