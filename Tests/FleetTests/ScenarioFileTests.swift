import Foundation
import Testing
@testable import Fleet

@Suite struct ScenarioFileTests {
    @Test(arguments: Scenario.builtIn.map(\.name))
    func exampleFileParsesToTheBuiltIn(name: String) throws {
        let path = repositoryRoot.appendingPathComponent("scenarios/\(name).toml").path
        #expect(try Scenario.load(path: path) == Scenario.named(name)!)
    }

    func error(_ toml: String) -> String {
        do {
            _ = try Scenario.parse(toml: toml, file: "scenarios/x.toml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    let header = """
        name = "x"

        [limits]
        capacity = 10

        [[clients]]
        name = "a"

        """

    @Test func aWrongTypeNamesFileLineAndField() {
        #expect(error(header + "rate = \"fast\"\n") == "scenarios/x.toml:8: rate: expected a number, got \"fast\"")
    }

    @Test func aBadValueInALaterClientTableNamesItsOwnLine() {
        let toml = header + "rate = 1\n\n[[clients]]\nname = \"b\"\nrate = -2\n"
        #expect(error(toml) == "scenarios/x.toml:12: rate: must be > 0, got -2 (valid: 1e-9 to 1e9 requests per second)")
    }

    @Test func anUnknownFieldIsAnError() {
        #expect(error(header + "rate = 1\nrat = 2\n") == "scenarios/x.toml:9: rat: unknown field")
    }

    @Test func aMissingRequiredFieldNamesItsTable() {
        #expect(error(header) == "scenarios/x.toml:6: rate: required in this [[clients]] table")
    }

    @Test func badEnumsAndDurationsSayWhatIsAllowed() {
        #expect(error("keying = \"per-key\"\n") == "scenarios/x.toml:1: keying: expected one of shared, per-user, per-tenant, hierarchical, got \"per-key\"")
        #expect(error(header + "rate = 1\ndeadline = \"soon\"\n").hasPrefix("scenarios/x.toml:9: deadline: expected a duration"))
        #expect(error("[limits]\ncapacity = 0\n") == "scenarios/x.toml:2: capacity: must be > 0, got 0 (valid: 1e-9 to 1e9 tokens)")
    }

    @Test func aTOMLSyntaxErrorHasItsLine() {
        #expect(error("name = \"x\"\nrate = = 2\n").hasPrefix("scenarios/x.toml:2: "))
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ScenarioError.self) { try Scenario.load(path: "/nonexistent/s.toml") }
    }

    @Test func defaultsFillEverythingNotGiven() throws {
        let s = try Scenario.parse(toml: "[[clients]]\nname = \"a\"\nrate = 3\n", file: "min.toml")
        #expect(s.name == "min")
        #expect(s.keying == .perUser)
        #expect(s.duration == 60_000_000_000)
        #expect(s.limits == ClientLimits())
        #expect(s.clients == [ClientSpec(name: "a", group: "a", arrival: .poisson(rate: 3))])
        #expect(s.upstream == UpstreamSpec())
        #expect(s.tuning == nil)
    }

    @Test func everyDocumentedFieldIsRead() throws {
        let toml = """
            name = "all"
            description = "every field"
            keying = "hierarchical"
            duration = "2m30s"

            [limits]
            capacity = 5
            refill = 1.5
            [limits.per_tenant]
            capacity = 50
            refill = 10
            [limits.shared]
            capacity = 100
            [limits.parent]
            scope = "global"
            refill = 20

            [upstream]
            name = "p"
            preset = "anthropic-sonnet-tier1"
            rpm = 60
            tpm = 1000
            ttft = [0.8, 1.8]
            tokens_per_s = 90

            [tuning]
            window = "30s"
            threshold = 0.05
            cut = 0.5
            raise = 0

            [[clients]]
            name = "a"
            group = "g"
            tenant = "t"
            count = 3
            arrival = "on-off"
            rate = 4
            on = "1s"
            off = "500ms"
            cost = "code"
            retry = "fixed"
            retries = 5
            retry_delay = "250ms"
            deadline = "9s"
            noisy = true

            [[clients]]
            name = "b"
            arrival = "closed-loop"
            concurrency = 7
            think = "100ms"
            cost = 2.5
            retry = "sdk"
            backoff_base = "1s"
            backoff_cap = "4s"
            honour_retry_after = false

            [[clients]]
            name = "c"
            arrival = "ramp"
            from = 1
            to = 3
            over = "1m"
            retry = "none"

            [[clients]]
            name = "d"
            arrival = "steady"
            rate = 2
            cost = "conversation"
            """
        let s = try Scenario.parse(toml: toml, file: "all.toml")
        #expect(s.name == "all")
        #expect(s.description == "every field")
        #expect(s.keying == .hierarchical)
        #expect(s.duration == 150 * second)
        #expect(s.limits == ClientLimits(perUser: BucketSpec(capacity: 5, refillPerSecond: 1.5),
                                         perTenant: BucketSpec(capacity: 50, refillPerSecond: 10),
                                         shared: BucketSpec(capacity: 100, refillPerSecond: 1.5),
                                         parentScope: .global, parent: BucketSpec(capacity: 100, refillPerSecond: 20)))
        #expect(s.upstream == UpstreamSpec(name: "p", limits: ProviderLimits(requestsPerMinute: 60, tokensPerMinute: 1000,
                                                                             inputTokensPerMinute: 30_000, outputTokensPerMinute: 8_000,
                                                                             burstPerSecond: true),
                                           ttft: 0.8...1.8, tokensPerSecond: 90...90))
        #expect(s.tuning == TuningSpec(window: 30 * second, threshold: 0.05, cut: 0.5, raise: nil))
        #expect(s.clients == [
            ClientSpec(name: "a", group: "g", tenant: "t", count: 3, arrival: .onOff(rate: 4, on: second, off: 500 * millisecond),
                       cost: .llm(.code), retry: .fixed(delay: 250 * millisecond, maxRetries: 5), deadline: 9 * second, noisy: true),
            ClientSpec(name: "b", group: "b", arrival: .closedLoop(concurrency: 7, think: 100 * millisecond), cost: .fixed(2.5),
                       retry: .exponential(maxRetries: 2, base: second, cap: 4 * second, honourRetryAfter: false)),
            ClientSpec(name: "c", group: "c", arrival: .ramp(from: 1, to: 3, over: 60 * second), retry: .none),
            ClientSpec(name: "d", group: "d", arrival: .steady(rate: 2), cost: .llm(.conversation)),
        ])
        let sim = try Simulation(scenario: s, seed: 1)
        sim.run(until: s.duration)
        #expect(conservationFailures(sim.metrics) == [])
        #expect(sim.report().groups.allSatisfy { $0.requests > 0 })
    }
}

/// `queue_limit` at the top level of a scenario file: read, range-checked, and enforced.
@Suite("queue_limit in a scenario file")
struct QueueLimitFileTests {
    func load(_ text: String) throws -> Scenario {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ql-\(UInt64.random(in: 0...UInt64.max)).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Scenario.load(path: path)
    }

    @Test func aQueueLimitIsReadAndRefusesTheOverflow() throws {
        let s = try load("""
            queue_limit = 5
            duration = "10s"
            [limits]
            capacity = 1
            refill = 1
            [[clients]]
            name = "flood"
            group = "noisy"
            arrival = "steady"
            rate = 100
            """)
        #expect(s.queueLimit == 5)
        let sim = try Simulation(scenario: s, seed: 1)
        try sim.run(until: 10_000_000_000, eventBudget: Simulation.defaultEventBudget)
        let key = try #require(sim.snapshot().keys.first)
        #expect(key.waiters <= 5)
        #expect(key.maxQueue == 5)
        #expect(key.rejected > 900)
    }

    @Test func aQueueLimitOutOfRangeNamesTheLineAndTheRange() {
        #expect(throws: ScenarioError.self) { try load("queue_limit = 0\n[[clients]]\nname = \"a\"\n") }
        do {
            _ = try load("queue_limit = 0\n")
        } catch {
            #expect("\(error)".contains(":1: queue_limit:"), "\(error)")
        }
    }
}
