import ArgumentParser
import Compare
import Fleet
import TokenBucket
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `bucketscope compare`: one stream of requests through every rate-limiting algorithm at one
/// budget, side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run one stream of requests through every common rate-limiting algorithm and compare them.",
        discussion: """
        Traffic: --scenario NAME|FILE (what the scenario's clients send, open loop, for --duration) or \
        --replay FILE (CSV `time_s,key,cost`, as `replay` reads it; - for standard input).
        Budget: --rate R per second, with --burst B and/or --window W (either one derives the other as \
        B = R × W; with neither, a scenario's bucket gives them (per-user, or shared with --shared), a replay uses W = 1s). \
        Token bucket and GCRA: capacity B, refill R. Leaky-bucket queue: drains R, queue limit B. \
        Fixed window, sliding log, sliding counter: R × W per W. Concurrency: --concurrency C in \
        progress (default R × mean service time, rounded up). See docs/compare.md.
        Algorithms: \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")).

        Examples:
          bucketscope compare --scenario burst
          bucketscope compare --replay conv.csv --rate 6000 --burst 60000 --format json
        """)

    @Option(parsing: .unconditional, help: "A built-in scenario name or a path to a scenario TOML file.")
    var scenario: String?

    @Option(parsing: .unconditional, help: "A request log `time_s,key,cost` (- for standard input).")
    var replay: String?

    @Option(parsing: .unconditional, help: "Comma-separated algorithms (default: all).")
    var algorithms: String?

    @Option(parsing: .unconditional, help: "Sustained rate, tokens (or requests) per second.")
    var rate: String?

    @Option(parsing: .unconditional, help: "Burst: bucket capacity and queue limit, in tokens.")
    var burst: String?

    @Option(parsing: .unconditional, help: "Window of the window algorithms and of max-in-window, e.g. 1s, 1m.")
    var window: String?

    @Option(parsing: .unconditional, help: "Cost allowed in progress at once (default: rate × mean service time).")
    var concurrency: String?

    @Option(parsing: .unconditional, help: "Service time of every replayed request, for the concurrency limit (default 1s).")
    var serviceTime: String?

    @Option(parsing: .unconditional, help: "Scenario length, e.g. 60s, 10m (default: the scenario's).")
    var duration: String?

    @Option(parsing: .unconditional, help: "Scenario seed.")
    var seed: String = "1"

    @Flag(help: "One limiter shared by all keys (default: one per key).")
    var shared = false

    @Flag(help: "Refused requests count against the window limits (counters that increment, then compare).")
    var countRefused = false

    @Option(parsing: .unconditional, help: "Fixed-window alignment: clock or first-request.")
    var alignment: String = "clock"

    @Flag(help: "Count requests, not their cost: every request costs 1.")
    var perRequest = false

    @Option(parsing: .unconditional, help: "Output: table, json or csv.")
    var format: String = "table"

    func run() throws {
        let output: String
        do {
            output = try CompareRequest(self).execute()
        } catch let e as ReplayError {
            throw CommandFailure(e.description)
        } catch let e as CommandFailure {
            throw e
        } catch {
            throw CommandFailure("\(error)")
        }
        try writeAll(Array(output.utf8))
    }
}

/// A `compare` invocation with every value checked: the traffic, the budget, the algorithms.
struct CompareRequest {
    enum OutputFormat: String { case table, json, csv }

    var traffic: Traffic
    var source: String
    var budget: Budget
    var algorithms: [Algorithm]
    var options: LimiterOptions
    var perKey: Bool
    var format: OutputFormat

    init(_ c: CompareCommand) throws {
        guard let format = OutputFormat(rawValue: c.format) else {
            throw CommandFailure("--format must be table, json or csv, got \"\(c.format)\"")
        }
        self.format = format
        guard let alignment = WindowAlignment(rawValue: c.alignment) else {
            throw CommandFailure("--alignment must be clock or first-request, got \"\(c.alignment)\"")
        }
        options = LimiterOptions(countRefused: c.countRefused, alignment: alignment)
        perKey = !c.shared
        algorithms = try Self.algorithms(c.algorithms)

        // The traffic, and the budget a scenario suggests.
        var suggested: BucketSpec?
        switch (c.scenario, c.replay) {
        case (nil, nil):
            throw CommandFailure("give the traffic: --scenario NAME|FILE or --replay FILE")
        case (.some, .some):
            throw CommandFailure("--scenario and --replay are alternatives: give one")
        case let (name?, nil):
            guard c.serviceTime == nil else { throw CommandFailure("--service-time is for --replay (a scenario draws its own)") }
            guard let seed = UInt64(c.seed) else { throw CommandFailure("--seed must be a whole number >= 0, got \"\(c.seed)\"") }
            let scenario = try Scenario.resolve(FleetOptions(scenario: name, seed: seed))
            let length = try c.duration.map { try Self.positiveDuration($0, "--duration") } ?? scenario.duration
            let names = scenario.clientNames
            var t = Traffic()
            for n in names { _ = t.key(n) }
            let arrivals = try scenario.openLoopArrivals(seed: seed, duration: length)
            t.reserveCapacity(arrivals.count)
            for a in arrivals { t.append(TrafficRequest(at: a.at, key: a.client, cost: a.costUnits, service: a.service)) }
            traffic = t
            source = "\(scenario.name) (seed \(seed), \(DurationText.format(length)), open loop)"
            // The scenario's bucket counts its own costs: with --per-request it still fits when
            // every request already costs 1.
            if !c.perRequest || scenario.clients.allSatisfy({ $0.cost == .request }) {
                suggested = c.shared ? scenario.limits.shared : scenario.limits.perUser
            }
        case let (nil, file?):
            guard c.duration == nil else { throw CommandFailure("--duration is for --scenario (a replay runs to its end)") }
            let service = try c.serviceTime.map { try Self.duration($0, "--service-time") } ?? 1_000_000_000
            traffic = try Self.readReplay(file, service: service)
            source = file == "-" ? "standard input" : file
        }
        if c.perRequest { traffic = traffic.countingRequests() }
        guard !traffic.requests.isEmpty else { throw CommandFailure("the traffic has no requests") }

        budget = try Self.budget(rate: c.rate, burst: c.burst, window: c.window, concurrency: c.concurrency,
                                 suggested: suggested, meanService: traffic.meanService)
    }

    func execute() throws -> String {
        var run = try Comparison(algorithms: algorithms, budget: budget, options: options, perKey: perKey)
        for r in traffic.requests { run.feed(r) }
        let report = CompareReport(source: source, traffic: traffic, comparison: run)
        switch format {
        case .table: return report.table()
        case .json: return report.json()
        case .csv: return report.csv()
        }
    }

    static func algorithms(_ text: String?) throws -> [Algorithm] {
        guard let text else { return Algorithm.allCases }
        var list: [Algorithm] = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let n = name.trimmingCharacters(in: .whitespaces)
            guard let a = Algorithm(rawValue: n) else {
                throw CommandFailure("unknown algorithm \"\(n)\" (known: \(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !list.contains(a) { list.append(a) }
        }
        return list
    }

    /// The documented rule: B = R × W when only one of burst and window is given; with neither,
    /// the scenario's bucket (B = capacity, W = B / R), else W = 1 s.
    static func budget(rate: String?, burst: String?, window: String?, concurrency: String?,
                       suggested: BucketSpec?, meanService: Nanoseconds) throws -> Budget {
        let r: Rate
        if let rate {
            r = try Rate(perSecond: try number(rate, "--rate"))
        } else if let s = suggested {
            r = try Rate(perSecond: s.refillPerSecond)
        } else {
            throw CommandFailure("give --rate (tokens or requests per second)")
        }
        func units(_ tokens: Double, _ flag: String) throws -> Int64 {
            guard tokens <= BucketConfiguration.maximumCapacity else {
                throw CommandFailure("\(flag) must be at most 1000000000, got \(tokens)")
            }
            return TokenUnits.units(tokens)
        }
        /// R × d in nano-tokens, and d for B tokens at R.
        func amount(over d: Nanoseconds) throws -> Int64 {
            let units = Int128(r.numerator) * Int128(d) / Int128(r.denominator)
            guard units <= Int128(TokenUnits.units(BucketConfiguration.maximumCapacity)) else {
                throw CommandFailure("rate × window is \(Double(units) / 1e9) tokens, above the largest burst "
                                     + "(1000000000): lower --rate or --window, or give --burst")
            }
            return Int64(units)
        }
        func span(of b: Int64) -> Nanoseconds {
            Int64(clamping: (Int128(b) * Int128(r.denominator) + Int128(r.numerator) - 1) / Int128(r.numerator))
        }
        var b = try burst.map { try units(try number($0, "--burst"), "--burst") }
        var w = try window.map { try positiveDuration($0, "--window") }
        switch (b, w) {
        case (nil, nil):
            if let s = suggested, rate == nil || s.refillPerSecond == r.perSecond {
                b = try units(s.capacity, "capacity")
                w = span(of: b!)
            } else {
                w = 1_000_000_000
                b = try amount(over: w!)
            }
        case (let bb?, nil): w = span(of: bb)
        case (nil, let ww?): b = try amount(over: ww)
        default: break
        }
        let cap: Int64
        if let concurrency {
            cap = try units(try number(concurrency, "--concurrency"), "--concurrency")
        } else {
            // Little's law: rate × mean service, rounded up to whole tokens (whole requests).
            let tokens = (Int128(r.numerator) * Int128(meanService) + Int128(r.denominator) * 1_000_000_000 - 1)
                / (Int128(r.denominator) * 1_000_000_000)
            cap = Int64(clamping: Swift.max(1, tokens)) * TokenUnits.perToken
        }
        do {
            return try Budget(rate: r, burst: b!, window: w!, concurrency: cap)
        } catch let e as CompareError {
            throw CommandFailure(e.message)
        }
    }

    static func number(_ text: String, _ flag: String) throws -> Double {
        guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0 else {
            throw CommandFailure("\(flag) must be a number > 0, got \"\(text)\"")
        }
        return v
    }

    static func duration(_ text: String, _ flag: String) throws -> Nanoseconds {
        do { return try DurationText.parse(text) } catch { throw CommandFailure("\(flag): \(error)") }
    }

    static func positiveDuration(_ text: String, _ flag: String) throws -> Nanoseconds {
        let d = try duration(text, flag)
        guard d > 0 else { throw CommandFailure("\(flag) must be > 0, got \"\(text)\"") }
        return d
    }

    /// Reads a `time_s,key,cost` log with `replay`'s parser.
    static func readReplay(_ file: String, service: Nanoseconds) throws -> Traffic {
        var fd: Int32 = 0
        if file != "-" {
            fd = open(file, O_RDONLY)
            guard fd >= 0 else { throw CommandFailure("cannot open \(file): \(String(cString: strerror(errno)))") }
        }
        defer { if fd != 0 { close(fd) } }
        var reader = LineReader(fd: fd)
        var parser = ReplayParser()
        var traffic = Traffic()
        while try reader.next({ line, number in
            guard let row = try parser.parse(line: line, number: number) else { return }
            // The comparison's limiters hold costs as Int64 nano-tokens: up to 9.2e9 tokens.
            guard row.cost <= Int128(Int64.max) else {
                throw ReplayError(line: number, message: "cost: compare takes costs up to 9.2e9 tokens, got "
                                  + String(decoding: row.costField, as: UTF8.self))
            }
            traffic.append(at: row.time, key: row.key, cost: Int64(row.cost), service: service)
        }) != nil {}
        return traffic
    }
}
