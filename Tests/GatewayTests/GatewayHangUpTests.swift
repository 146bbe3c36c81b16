import AsyncHTTPClient
import Foundation
@testable import Gateway
import Testing

/// Real time (marked): a client that hangs up while its request waits for admission.
@Suite("Gateway: hang-up while waiting (real time)", .serialized)
struct GatewayHangUpTests {
    @Test("a waiter whose client hangs up is dropped: its slot goes to the next waiter, the bucket gets its token back")
    func hangUpWhileWaiting() async throws {
        // One request per 5 s after a burst of 1: A takes the burst at t0, B waits for t0 + 5 s,
        // C for t0 + 10 s. B's client hangs up: C moves up to B's slot. (5 s slots leave a
        // loaded machine room to cancel B before its slot; if it still could not, the timing
        // checks below are skipped, the counts are not.)
        try await GatewayHarness.with(testConfig(capacity: 1, refill: 0.2, maxWait: .seconds(30))) { h in
            let clock = ContinuousClock()
            let id = ClientKey.fingerprint("sk-test-key")
            let metrics = h.server.responder.metrics
            let limits = h.server.responder.limits
            func waiting() -> Int { metrics.stats()[id]?.waiting ?? 0 }
            func until(_ what: String, _ condition: () -> Bool) async throws {
                let deadline = clock.now + .seconds(60)   // a hang guard only
                while !condition() {
                    guard clock.now < deadline else { Issue.record("timed out waiting for \(what)"); return }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }

            let sentA = clock.now
            #expect(try await h.request(.GET, "/v1/models").status == 200)
            let doneA = clock.now

            let b = Task { try await h.request(.GET, "/v1/models") }
            try await until("B waiting") { waiting() == 1 }
            let c = Task { try await h.request(.GET, "/v1/models") }
            try await until("C waiting") { waiting() == 2 }

            b.cancel()   // AsyncHTTPClient closes B's connection
            try await until("B abandoned") { waiting() == 1 }
            let beforeSlot = clock.now - doneA < .seconds(5)
            if beforeSlot { await #expect(throws: (any Error).self) { _ = try await b.value } }

            let answerC = try await c.value
            let doneC = clock.now
            #expect(answerC.status == 200)
            // B's slot (t0 + 2 s), not C's own (t0 + 4 s): without the give-back C could not
            // pass before t0 + 4 s. The upper bound leaves 1.5 s for a loaded machine.
            #expect(doneC - sentA >= .seconds(5) - .milliseconds(20))
            guard beforeSlot else { return }   // the machine stalled past B's slot: nothing to compare
            #expect(doneC - doneA < .seconds(9), "C admitted at \(doneC - doneA) after A")

            // The bucket as if B had never come: A at t0, C at t0 + 5 s, so at t0 + 7.5 s it holds
            // 0.5 tokens (had B kept its token, it would still be in debt: 0).
            try await Task.sleep(until: sentA + .seconds(7.5))
            let bucket = limits.bucket(for: ClientKey(id: id, tenant: id, known: false)).bucket
            let remaining = try #require(limits.status(bucket: bucket)[.requests]?.remaining)
            let now = clock.now
            let low = Swift.max(0, 0.2 * ((now - doneA).inSeconds - 5)) - 0.01
            let high = 0.2 * ((now - sentA).inSeconds - 5) + 0.01
            #expect(remaining >= low && remaining <= high, "remaining \(remaining), expected \(low)...\(high)")

            let stats = try #require(metrics.stats()[id])
            #expect(stats.admitted == 2)
            #expect(stats.limited == 0)
            #expect(stats.waiting == 0)
        }
    }
}
