import Foundation
import TokenBucket

/// The end-of-run report of a fleet, simulated or live, as `bucketscope run` prints it (JSON,
/// table or CSV). Built from ``FleetMetrics`` only, so a live runner produces the same report
/// with `mode: .live`.
///
/// ```swift
/// let r = sim.report(wallSeconds: 0.12)
/// print(r.json())     // {"scenario": "noisy-neighbor", "mode": "simulated", ...}
/// ```
/// `requests` counts requests (first tries and retries) that reached the client-side limiter;
/// `rejected` those refused there at once (deadline or cost), consuming nothing; `timed_out`
/// those that gave up after waiting; `moved` waiters moved to another key by a keying switch.
public struct FleetReport: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var name: String
        public var clients: Int
        public var requests: Int
        public var admitted: Int
        public var rejected: Int
        public var timedOut: Int
        public var upstream429: Int
        public var waitMs: WaitPercentiles
    }

    public struct Key: Sendable, Equatable {
        public var key: String
        public var group: String
        public var capacity: Double
        public var refillPerSecond: Double
        public var requests: Int
        public var admitted: Int
        public var rejected: Int
        public var timedOut: Int
        public var moved: Int
        /// Waiting at the end of the run (in flight at the limiter).
        public var waiting: Int
        public var upstream429: Int
        public var maxQueue: Int
        public var waitMs: WaitPercentiles
    }

    public struct Upstream: Sendable, Equatable {
        public var requests: Int
        public var status429: Int
        public var rate429: Double
        /// Requests answered successfully (simulated) and those given up after 429s.
        public var completed: Int
        public var failed: Int
    }

    public var scenario: String
    public var mode: FleetMode
    public var seed: UInt64
    public var durationSeconds: Double
    public var keying: Keying
    public var groups: [Group]
    public var keys: [Key]
    public var upstream: Upstream
    public var tuningFactor: Double?
    public var tuningMoves: Int
    public var wallSeconds: Double

    public init(metrics m: FleetMetrics, scenario: String, mode: FleetMode, seed: UInt64, duration: Nanoseconds,
                keying: Keying, includeKey: (Int) -> Bool = { _ in true }, tuningFactor: Double? = nil,
                tuningMoves: Int = 0, completed: Int, failed: Int, wallSeconds: Double) {
        self.scenario = scenario; self.mode = mode; self.seed = seed
        self.durationSeconds = Double(duration) / 1e9; self.keying = keying
        groups = m.groups.map {
            Group(name: $0.name, clients: $0.clients, requests: $0.requests, admitted: $0.admitted, rejected: $0.rejected,
                  timedOut: $0.timedOut, upstream429: $0.upstream429, waitMs: $0.waits.percentiles())
        }
        keys = m.keys.indices.filter(includeKey).map { i in
            let k = m.keys[i]
            return Key(key: k.name, group: k.group, capacity: k.capacity, refillPerSecond: k.refillPerSecond,
                       requests: k.requests, admitted: k.admitted, rejected: k.rejected, timedOut: k.timedOut,
                       moved: k.moved, waiting: k.waiting, upstream429: k.upstream429, maxQueue: k.maxQueue,
                       waitMs: k.waits.percentiles())
        }
        upstream = Upstream(requests: m.upstream.requests, status429: m.upstream.status429,
                            rate429: m.upstream.requests > 0 ? Double(m.upstream.status429) / Double(m.upstream.requests) : 0,
                            completed: completed, failed: failed)
        self.tuningFactor = tuningFactor; self.tuningMoves = tuningMoves; self.wallSeconds = wallSeconds
    }

    /// The same report without the wall-clock figure: what a determinism check compares.
    public var withoutWallTime: FleetReport {
        var r = self
        r.wallSeconds = 0
        return r
    }

    // MARK: JSON

    /// JSON with the fields in a fixed order and numbers printed the same way on every machine.
    public func json(pretty: Bool = true) -> String {
        let w = JSONWriter(pretty: pretty)
        w.object {
            w.field("scenario", string: scenario)
            w.field("mode", string: mode.rawValue)
            w.field("seed", raw: String(seed))
            w.field("duration_s", number: durationSeconds)
            w.field("keying", string: keying.rawValue)
            w.field("groups") {
                w.array(groups) { g in
                    w.object {
                        w.field("name", string: g.name)
                        w.field("clients", int: g.clients)
                        w.field("requests", int: g.requests)
                        w.field("admitted", int: g.admitted)
                        w.field("rejected", int: g.rejected)
                        w.field("timed_out", int: g.timedOut)
                        w.field("upstream_429", int: g.upstream429)
                        w.field("wait_ms") { w.waits(g.waitMs) }
                    }
                }
            }
            w.field("keys") {
                w.array(keys) { k in
                    w.object {
                        w.field("key", string: k.key)
                        w.field("group", string: k.group)
                        w.field("capacity", number: k.capacity)
                        w.field("refill_per_s", number: k.refillPerSecond)
                        w.field("requests", int: k.requests)
                        w.field("admitted", int: k.admitted)
                        w.field("rejected", int: k.rejected)
                        w.field("timed_out", int: k.timedOut)
                        w.field("moved", int: k.moved)
                        w.field("waiting", int: k.waiting)
                        w.field("upstream_429", int: k.upstream429)
                        w.field("max_queue", int: k.maxQueue)
                        w.field("wait_ms") { w.waits(k.waitMs) }
                    }
                }
            }
            w.field("upstream") {
                w.object {
                    w.field("requests", int: upstream.requests)
                    w.field("status_429", int: upstream.status429)
                    w.field("rate_429", number: upstream.rate429, decimals: 6)
                    w.field("completed", int: upstream.completed)
                    w.field("failed", int: upstream.failed)
                }
            }
            if let f = tuningFactor {
                w.field("tuning") {
                    w.object {
                        w.field("factor", number: f, decimals: 6)
                        w.field("moves", int: tuningMoves)
                    }
                }
            }
            w.field("wall_s", number: wallSeconds)
        }
        return w.out
    }

    // MARK: Table and CSV

    public func table() -> String {
        var lines: [String] = []
        lines.append("scenario \(scenario) (\(mode.rawValue)), keying \(keying.rawValue), seed \(seed), \(fmt(durationSeconds)) s \(mode == .live ? "run live" : "simulated") in \(format1(wallSeconds, 3)) s")
        lines.append("")
        let gh = ["group", "clients", "requests", "admitted", "rejected", "timed out", "429s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
        lines += Self.grid([gh] + groups.map {
            [$0.name, "\($0.clients)", "\($0.requests)", "\($0.admitted)", "\($0.rejected)", "\($0.timedOut)", "\($0.upstream429)",
             Self.ms($0.waitMs.p50), Self.ms($0.waitMs.p90), Self.ms($0.waitMs.p99), Self.ms($0.waitMs.max)]
        })
        lines.append("")
        let kh = ["key", "group", "capacity", "refill/s", "requests", "admitted", "rejected", "timed out", "429s", "max queue",
                  "p50 ms", "p90 ms", "p99 ms", "max ms"]
        lines += Self.grid([kh] + keys.map {
            [$0.key, $0.group, fmt($0.capacity), fmt($0.refillPerSecond), "\($0.requests)", "\($0.admitted)", "\($0.rejected)",
             "\($0.timedOut)", "\($0.upstream429)", "\($0.maxQueue)",
             Self.ms($0.waitMs.p50), Self.ms($0.waitMs.p90), Self.ms($0.waitMs.p99), Self.ms($0.waitMs.max)]
        })
        lines.append("")
        var up = "upstream: \(upstream.requests) requests, \(upstream.status429) answered 429 (\(format1(upstream.rate429 * 100, 2)) %), \(upstream.completed) completed, \(upstream.failed) failed after retries"
        if let f = tuningFactor { up += "; tuning factor \(format1(f, 4)) after \(tuningMoves) moves" }
        lines.append(up)
        return lines.joined(separator: "\n") + "\n"
    }

    public func csv() -> String {
        var rows = ["kind,name,group,clients,capacity,refill_per_s,requests,admitted,rejected,timed_out,upstream_429,max_queue,p50_ms,p90_ms,p99_ms,max_ms"]
        for g in groups {
            rows.append("group,\(Self.csvField(g.name)),\(Self.csvField(g.name)),\(g.clients),,,\(g.requests),\(g.admitted),\(g.rejected),\(g.timedOut),\(g.upstream429),,\(Self.ms(g.waitMs.p50)),\(Self.ms(g.waitMs.p90)),\(Self.ms(g.waitMs.p99)),\(Self.ms(g.waitMs.max))")
        }
        for k in keys {
            rows.append("key,\(Self.csvField(k.key)),\(Self.csvField(k.group)),,\(fmt(k.capacity)),\(fmt(k.refillPerSecond)),\(k.requests),\(k.admitted),\(k.rejected),\(k.timedOut),\(k.upstream429),\(k.maxQueue),\(Self.ms(k.waitMs.p50)),\(Self.ms(k.waitMs.p90)),\(Self.ms(k.waitMs.p99)),\(Self.ms(k.waitMs.max))")
        }
        // The provider's row: requests it received, admitted (not 429), and its 429s.
        rows.append("upstream,\(Self.csvField(scenario)),,,,,\(upstream.requests),\(upstream.requests - upstream.status429),,,\(upstream.status429),,,,,")
        return rows.joined(separator: "\n") + "\n"
    }

    static func ms(_ x: Double) -> String { format1(x, 3) }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func grid(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = first.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = Swift.max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in
                i == 0 || i == 1 && first[1] == "group" ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }
    }
}

/// A tiny JSON writer: fields in the order written, stable number formatting.
final class JSONWriter {
    private(set) var out = ""
    let pretty: Bool
    private var depth = 0
    private var needsComma = false

    init(pretty: Bool) { self.pretty = pretty }

    private func newline() {
        guard pretty else { return }
        out += "\n" + String(repeating: "  ", count: depth)
    }

    private func separator() {
        if needsComma { out += "," }
        newline()
    }

    func object(_ body: () -> Void) {
        out += "{"
        depth += 1; needsComma = false
        body()
        depth -= 1
        newline()
        out += "}"
        needsComma = true
    }

    func array<T>(_ items: [T], _ body: (T) -> Void) {
        out += "["
        depth += 1; needsComma = false
        for item in items { separator(); body(item) }
        depth -= 1
        if !items.isEmpty { newline() }
        out += "]"
        needsComma = true
    }

    func key(_ k: String) {
        separator()
        out += Self.quote(k) + (pretty ? ": " : ":")
    }

    func field(_ k: String, raw: String) { key(k); out += raw; needsComma = true }
    func field(_ k: String, string: String) { field(k, raw: Self.quote(string)) }
    func field(_ k: String, int: Int) { field(k, raw: String(int)) }
    func field(_ k: String, number: Double, decimals: Int = 3) { field(k, raw: Self.number(number, decimals)) }
    func field(_ k: String, _ body: () -> Void) { key(k); needsComma = false; body() }

    func waits(_ w: WaitPercentiles) {
        object {
            field("p50", number: w.p50)
            field("p90", number: w.p90)
            field("p99", number: w.p99)
            field("max", number: w.max)
        }
    }

    static func number(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "null" }
        return format1(x, decimals)
    }

    static func quote(_ s: String) -> String {
        var r = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\t": r += "\\t"
            default:
                if ch.value < 0x20 {
                    let hex = String(ch.value, radix: 16)
                    r += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else { r.unicodeScalars.append(ch) }
            }
        }
        return r + "\""
    }
}
