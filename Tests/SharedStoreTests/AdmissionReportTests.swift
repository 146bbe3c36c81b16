import RedisTestServer
import SharedStore
import Testing
import TokenBucket

/// What the acquire script reports beside its decision (the levels a gateway shows in its
/// headers and dashboard), and reconfiguration taking over on a refused request. Explicit
/// instants: deterministic.
@Suite("Admission reports: levels and the deciding limit, in the same EVALSHA")
struct AdmissionReportTests {
    let client = RedisServer.shared.client()

    func buckets(_ name: String = #function) -> RedisBuckets { RedisBuckets(client: client, prefix: uniquePrefix(name)) }

    static let second: Nanoseconds = 1_000_000_000

    @Test("admitted: each bucket's level after the reservation, as BucketState's balance")
    func levelsWhenAdmitted() async throws {
        let b = buckets()
        let rpm = try BucketConfiguration(capacity: 4, refillPerSecond: 1)
        let tpm = try BucketConfiguration(capacity: 100, refillPerSecond: 10)
        let t0 = epoch2026
        let first = try await b.acquireReporting([SharedLimit(key: "r", configuration: rpm, cost: 1),
                                                  SharedLimit(key: "t", configuration: tpm, cost: 90)], maxWait: 0, at: t0)
        #expect(first.levels == [3, 10])
        #expect(first.binding == nil)
        // Half a second later: 0.5 and 5 tokens refilled, then 1 and 10 taken.
        let second = try await b.acquireReporting([SharedLimit(key: "r", configuration: rpm, cost: 1),
                                                   SharedLimit(key: "t", configuration: tpm, cost: 10)],
                                                  maxWait: 0, at: t0 + Self.second / 2)
        #expect(second.levels == [2.5, 5])
        // The same as the library's bucket would say.
        var state = BucketState(tpm)
        _ = try state.reserve(90, at: 0)
        _ = try state.reserve(10, at: Self.second / 2)
        #expect(state.balance(at: Self.second / 2) == 5)
    }

    @Test("refused: the limit that admits last, and the levels, with nothing taken")
    func bindingWhenRefused() async throws {
        let b = buckets()
        let rpm = try BucketConfiguration(capacity: 4, refillPerSecond: 1)
        let tpm = try BucketConfiguration(capacity: 100, refillPerSecond: 10)
        let t0 = epoch2026
        _ = try await b.acquire([SharedLimit(key: "t", configuration: tpm, cost: 90)], maxWait: 0, at: t0)
        // 50 tokens with 10 left: 4 s at 10/s; the request bucket would admit at once.
        let report = try await b.acquireReporting([SharedLimit(key: "r", configuration: rpm, cost: 1),
                                                   SharedLimit(key: "t", configuration: tpm, cost: 50)], maxWait: 0, at: t0)
        #expect(report.admission == .wouldWait(admitAt: t0 + 4 * Self.second, now: t0))
        #expect(report.binding == 1)
        #expect(report.levels == [4, 10])
        let never = try await b.acquireReporting([SharedLimit(key: "r", configuration: rpm, cost: 1),
                                                  SharedLimit(key: "t", configuration: tpm, cost: 101)], maxWait: nil, at: t0)
        #expect(never.binding == 1)
        #expect(never.levels == nil)
    }

    @Test("a new configuration takes over at the first touch even when that request is refused")
    func reconfigurationPersistsOnRefusal() async throws {
        let b = buckets()
        let slow = try BucketConfiguration(capacity: 2, refillPerSecond: 0.001)
        let fast = try BucketConfiguration(capacity: 2, refillPerSecond: 1000)
        let t0 = epoch2026
        let ms: Nanoseconds = 1_000_000
        _ = try await b.acquire([SharedLimit(key: "k", configuration: slow, cost: 2)], maxWait: 0, at: t0)
        // Refill raised (the dashboard's edit): the first request after it finds the level
        // kept (empty) and one token 1 ms away; it is refused, but the new refill now runs.
        let refused = try await b.acquire([SharedLimit(key: "k", configuration: fast, cost: 1)], maxWait: 0, at: t0 + ms)
        // The level is converted to the new scale once in floating point (a nanosecond or so).
        guard case .wouldWait(let at, let now) = refused else { Issue.record("\(refused)"); return }
        #expect(now == t0 + ms)
        #expect(abs(at - (t0 + 2 * ms)) <= 1_000, "admit at \(at - t0) ns")
        // Without the takeover stored, the slow refill would still decide here (1,000 s away).
        let admitted = try await b.acquire([SharedLimit(key: "k", configuration: fast, cost: 1)], maxWait: 0, at: t0 + 2 * ms)
        #expect(admitted.reservation != nil)
    }
}
