import Fleet
import Foundation
import Testing
import TokenBucket
@testable import Gateway

/// The tuning rule on a gateway's upstream answers, with time passed in (no clock, no server).
@Suite("Gateway tuning rule")
struct TuningWindowTests {
    static let second: Nanoseconds = 1_000_000_000
    static let spec = TuningSpec(window: second, threshold: 0.01, cut: 0.2, raise: 0.05)

    @Test("the fleet's rule: cut 20 % above a 1 % 429 rate, raise 5 % after a window without, never above 1")
    func sharedRule() {
        let t = Self.spec
        #expect(t.move(factor: 1, requests: 10, limited: 1)?.factor == 0.8)
        #expect(t.move(factor: 1, requests: 10, limited: 1)?.reason == "429 rate 10% > 1%")
        #expect(t.move(factor: 1, requests: 200, limited: 2) == nil)     // 1 % is not above 1 %
        #expect(t.move(factor: 0.8, requests: 10, limited: 0)?.factor == 0.8 * 1.05)
        #expect(t.move(factor: 0.98, requests: 10, limited: 0)?.factor == 1)
        #expect(t.move(factor: 1, requests: 10, limited: 0) == nil)      // nothing to raise
        #expect(t.move(factor: 0.5, requests: 0, limited: 0) == nil)     // nothing to judge
        #expect(TuningSpec(raise: nil).move(factor: 0.5, requests: 10, limited: 0) == nil)
    }

    @Test("a window with 1 429 in 10 answers cuts the factor to 0.8 when it ends, not before")
    func cutAtWindowEnd() {
        var w = TuningWindow(spec: Self.spec)
        for i in 0..<10 {
            #expect(w.answered(status: i == 3 ? 429 : 200, retryAfter: nil, at: Int64(i) * 50_000_000) == nil)
        }
        #expect(w.close(at: Self.second - 1) == nil)
        #expect(w.factor == 1)
        let move = w.close(at: Self.second)
        #expect(move?.factor == 0.8 && move?.isCut == true)
        #expect(w.factor == 0.8 && w.moves == 1)
        #expect(w.windowEnd == 2 * Self.second)
    }

    @Test("judged late (at the next answer after a quiet spell) it makes the same move as on time; empty windows move nothing")
    func lateJudgement() {
        var w = TuningWindow(spec: Self.spec)
        _ = w.answered(status: 429, retryAfter: nil, at: 100_000_000)
        let move = w.answered(status: 200, retryAfter: nil, at: 7 * Self.second + 5)   // windows 2…7 had no answers
        #expect(move?.factor == 0.8)
        #expect(w.windowEnd == 8 * Self.second)
        // The answer at 7 s belongs to the new window: without 429s, it raises at 8 s.
        #expect(w.close(at: 8 * Self.second)?.factor == 0.8 * 1.05)
        #expect(w.close(at: 20 * Self.second) == nil)
        #expect(w.moves == 2)
    }

    @Test("recovery: windows without 429s raise the factor back to 1 and no further")
    func recovery() {
        var w = TuningWindow(spec: Self.spec)
        _ = w.answered(status: 429, retryAfter: nil, at: 0)
        _ = w.close(at: Self.second)
        var t = Self.second
        var factors: [Double] = []
        for _ in 0..<6 {
            _ = w.answered(status: 200, retryAfter: nil, at: t + 1)
            t += Self.second
            if let m = w.close(at: t) { factors.append(m.factor) }
        }
        // 0.8 × 1.05^n: 0.84, 0.882, 0.926, 0.972, then capped at 1; the sixth window moves nothing.
        #expect(factors.count == 5)
        #expect(factors.last == 1)
        #expect(zip(factors, factors.dropFirst()).allSatisfy { $0 < $1 })
        #expect(w.factor == 1)
    }

    @Test("no raise while the upstream's Retry-After has not passed")
    func retryAfterHoldsTheRaise() {
        var w = TuningWindow(spec: Self.spec)
        _ = w.answered(status: 429, retryAfter: 3 * Self.second, at: 500_000_000)   // quiet asked until 3.5 s
        #expect(w.close(at: Self.second)?.factor == 0.8)
        _ = w.answered(status: 200, retryAfter: nil, at: Self.second + 1)
        #expect(w.close(at: 2 * Self.second) == nil)                                   // window ends 2 s < 3.5 s
        _ = w.answered(status: 200, retryAfter: nil, at: 2 * Self.second + 1)
        #expect(w.close(at: 3 * Self.second) == nil)
        _ = w.answered(status: 200, retryAfter: nil, at: 3 * Self.second + 1)
        #expect(abs((w.close(at: 4 * Self.second)?.factor ?? 0) - 0.84) < 1e-12)
    }

    @Test("the upstream's Retry-After: retry-after-ms first, else retry-after seconds")
    func retryAfterHeaders() {
        #expect(RefillTuner.retryAfter(["retry-after-ms": "1500", "retry-after": "2"]) == .milliseconds(1500))
        #expect(RefillTuner.retryAfter(["retry-after": "2"]) == .seconds(2))
        #expect(RefillTuner.retryAfter(["retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"]) == nil)
        #expect(RefillTuner.retryAfter([:]) == nil)
    }

    @Test("a move scales every request refill: base, parents and overrides that set one; capacities and tokens stay")
    func scaling() throws {
        var c = testConfig(capacity: 10, refill: 4, tpm: 6_000)
        c.keying = .hierarchical
        c.parent = LimitSpec(refill: 20)
        c.keys = [KeyEntry(name: "alice", secret: "sk-a", tenant: "acme", limits: LimitSpec(refill: 1)),
                  KeyEntry(name: "bob", secret: "sk-b", tenant: "acme")]
        c.tenants = ["acme": LimitSpec(refill: 10)]
        let limits = try GatewayLimits(c)
        try limits.scaleRequestRefill(by: 0.5)
        #expect(limits.spec(bucket: "alice").refill == 0.5)
        #expect(limits.spec(bucket: "bob").refill == 2)
        #expect(limits.spec(bucket: "bob").capacity == 10 && limits.spec(bucket: "bob").tokensPerMinute == 6_000)
        let s = limits.settings.withLock { $0 }
        #expect(s.parent.refill == 10 && s.tenantOverrides["acme"]?.refill == 5)
        #expect(throws: (any Error).self) { try limits.scaleRequestRefill(by: 1e-12) }
        #expect(limits.spec(bucket: "bob").refill == 2)   // a refused move changes nothing
    }

    @Test("the tuner applies each move to the limits, on its clock")
    func tunerMovesTheLimits() throws {
        let limits = try GatewayLimits(testConfig(capacity: 10, refill: 5))
        let clock = ManualClock()
        let tuner = RefillTuner(Self.spec, limits: limits, clock: clock)
        tuner.answered(status: 429, retryAfter: .milliseconds(200))
        tuner.answered(status: 200, retryAfter: nil)
        clock.advance(by: .seconds(1))
        tuner.tick()
        #expect(tuner.factor == 0.8 && tuner.moves == 1)
        #expect(limits.spec(bucket: "k").refill == 4)
        #expect(tuner.lastMove?.summary == "tuning: 429 rate 50% > 1%: refill factor 1 → 0.8")
        tuner.answered(status: 200, retryAfter: nil)
        clock.advance(by: .seconds(1))
        tuner.tick()
        #expect(abs((limits.spec(bucket: "k").refill ?? 0) - 4.2) < 1e-9)
    }

    @Test("the metrics feed the rule the upstream's answers with their Retry-After, not the gateway's own 502s")
    func fedByMetrics() throws {
        let limits = try GatewayLimits(testConfig(capacity: 10, refill: 5))
        let clock = ManualClock()
        let metrics = GatewayMetrics(trackedKeys: 10, tuner: RefillTuner(Self.spec, limits: limits, clock: clock))
        let tuner = try #require(metrics.tuner)
        let key = ClientKey(id: "k", tenant: "k", known: false)
        let v = metrics.arrived(key)
        metrics.decided(v, admittedAfter: .zero, limited: false, estimated: 0)
        metrics.upstreamAnswered(v, status: 429, headers: ["retry-after-ms": "1500"])
        clock.advance(by: .seconds(1))
        tuner.tick()
        #expect(tuner.factor == 0.8)
        // Next window: only failures to reach the upstream. Not "a window without 429s".
        metrics.upstreamAnswered(nil, status: 502)
        clock.advance(by: .seconds(1))
        tuner.tick()
        #expect(tuner.factor == 0.8)
        // A 200 after the Retry-After (1.5 s) has passed: raised at its window's end.
        let w = metrics.arrived(key)
        metrics.decided(w, admittedAfter: .zero, limited: false, estimated: 0)
        metrics.upstreamAnswered(w, status: 200)
        clock.advance(by: .seconds(1))
        tuner.tick()
        #expect(abs(tuner.factor - 0.84) < 1e-12)
        #expect(metrics.stats()["k"]?.upstreamStatus == [429: 1, 200: 1])
    }

    @Test("a cut the library cannot hold (a refill below its least) is not made: factor and limits stay")
    func unheldMove() throws {
        let limits = try GatewayLimits(testConfig(capacity: 10, refill: 1e-6))
        let clock = ManualClock()
        let tuner = RefillTuner(Self.spec, limits: limits, clock: clock)
        tuner.answered(status: 429, retryAfter: nil)
        clock.advance(by: .seconds(1))
        tuner.tick()
        #expect(tuner.factor == 1 && tuner.moves == 0 && tuner.lastMove == nil)
        #expect(limits.spec(bucket: "k").refill == 1e-6)
    }

    @Test("the [tuning] example in docs/serve.md parses to the defaults it states")
    func docsExample() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/serve.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "```toml\n[tuning]\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let c = try GatewayConfig.parse(toml: "[tuning]\n" + String(text[start.upperBound..<end.lowerBound]))
        #expect(c.tuning == TuningSpec())
    }

    @Test("[tuning] in the config: the simulator's fields, defaults and ranges")
    func config() throws {
        let c = try GatewayConfig.parse(toml: """
            upstream = "http://127.0.0.1:9"
            [tuning]
            window = "2s"
            threshold = 0.05
            cut = 0.5
            raise = 0
            """)
        #expect(c.tuning == TuningSpec(window: 2 * Self.second, threshold: 0.05, cut: 0.5, raise: nil))
        #expect(try GatewayConfig.parse(toml: "[tuning]\n").tuning == TuningSpec())
        #expect(try GatewayConfig.parse(toml: "[tuning]\nenabled = false\n").tuning == nil)
        // A switched-off section keeps its values for `serve --tuning`.
        #expect(try GatewayConfig.parse(toml: "[tuning]\nenabled = false\nwindow = \"2s\"\n").tuningSection == TuningSpec(window: 2 * Self.second))
        #expect(try GatewayConfig.parse(toml: "").tuningSection == nil)
        #expect(try GatewayConfig.parse(toml: "").tuning == nil)
        for (bad, message) in [("cut = 1", "tuning.cut: must be at most"), ("window = \"10ms\"", "tuning.window: must be at least 100ms"),
                               ("threshold = -1", "tuning.threshold"), ("cut = \"a\"", "tuning.cut: expected a number"),
                               ("windw = \"1s\"", "tuning.windw: unknown field")] {
            do {
                _ = try GatewayConfig.parse(toml: "[tuning]\n\(bad)\n")
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.description.hasPrefix(message), "\(bad): \(error.description)")
            }
        }
    }
}
