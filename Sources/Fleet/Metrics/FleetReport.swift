import Foundation
import TokenBucket

/// The report of a fleet run (any driver), as `bucketscope run` prints it (JSON, table or CSV).
/// Built by the fleet core from its ``FleetMetrics`` at one instant.
///
/// ```swift
/// let r = sim.report(wallSeconds: 0.12)
/// print(r.json())     // {"scenario": "noisy-neighbor", "mode": "simulated", ...}
/// ```
/// Every request is somewhere. Per group: `requests = admitted + rejected + timed_out + waiting`.
/// Per key: `requests = admitted + rejected + timed_out + moved + waiting`. `requests` counts
/// requests (first tries and retries) that reached the client-side limiter; `rejected` those
/// refused there at once (deadline, cost above capacity, or a full wait queue), consuming
/// nothing; `timed_out` those that gave up after waiting; `moved` waiters moved to another key
/// by a keying switch; `waiting` those still waiting at the end. Wait percentiles count the
/// waiting ones with their wait so far (`lower_bound`: the figures are "at least"), and are
/// rounded to the 3 significant digits the histograms hold.
public struct FleetReport: Sendable, Equatable {
    public struct GroupRow: Sendable, Equatable {
        public var name: String
        public var clients: Int
        public var requests: Int
        public var admitted: Int
        public var rejected: Int
        public var timedOut: Int
        /// Waiting at a client-side bucket at the end.
        public var waiting: Int
        public var upstream429: Int
        public var waitMs: WaitPercentiles
    }

    public struct KeyRow: Sendable, Equatable {
        public var key: String
        public var group: String
        public var capacity: Double
        public var refillPerSecond: Double
        /// The refill configured before the tuning rule scaled it (nil when untouched).
        public var tunedFromRefillPerSecond: Double?
        public var requests: Int
        public var admitted: Int
        public var rejected: Int
        public var timedOut: Int
        public var moved: Int
        /// Waiting at the end of the run.
        public var waiting: Int
        public var upstream429: Int
        public var maxQueue: Int
        public var waitMs: WaitPercentiles
    }

    public struct UpstreamRow: Sendable, Equatable {
        /// The provider's name in the scenario.
        public var name: String
        public var requests: Int
        public var status429: Int
        public var rate429: Double
        /// Requests answered successfully, and those given up after 429s.
        public var completed: Int
        public var failed: Int
    }

    public var scenario: String
    public var mode: FleetMode
    public var seed: UInt64
    public var durationSeconds: Double
    public var keying: Keying
    public var groups: [GroupRow]
    public var keys: [KeyRow]
    public var upstream: UpstreamRow
    public var tuningFactor: Double?
    public var tuningMoves: Int
    /// See ``FleetSnapshot/warnings``.
    public var warnings: [String]
    public var wallSeconds: Double
    /// Replicas behind a balancer, when the scenario has them (see ``ReplicaSnapshot``).
    public var replicas: ReplicaSnapshot?

    init(metrics m: FleetMetrics, scenario: String, mode: FleetMode, seed: UInt64, duration: Nanoseconds,
         keying: Keying, includeKey: (Int) -> Bool, pending: (groups: [[Int64]], keys: [Int: [Int64]]),
         baseRefill: [Int: Double], tuningFactor: Double?, tuningMoves: Int, upstreamName: String,
         completed: Int, failed: Int, warnings: [String], wallSeconds: Double) {
        self.scenario = scenario; self.mode = mode; self.seed = seed
        self.durationSeconds = Double(duration) / 1e9; self.keying = keying
        groups = m.groups.enumerated().map { g, r in
            let waiting = g < pending.groups.count ? pending.groups[g] : []
            return GroupRow(name: r.name, clients: r.clients, requests: r.requests, admitted: r.admitted, rejected: r.rejected,
                            timedOut: r.timedOut, waiting: waiting.count, upstream429: r.upstream429,
                            waitMs: r.waits.percentiles(includingPending: waiting).honest)
        }
        keys = m.keys.indices.filter(includeKey).map { i in
            let k = m.keys[i]
            let base = baseRefill[i]
            let tuned = base.flatMap { abs($0 - k.refillPerSecond) > 1e-9 * Swift.max(1, $0) ? $0 : nil }
            return KeyRow(key: k.name, group: k.group, capacity: k.capacity, refillPerSecond: k.refillPerSecond,
                          tunedFromRefillPerSecond: tuningFactor == nil ? nil : tuned,
                          requests: k.requests, admitted: k.admitted, rejected: k.rejected, timedOut: k.timedOut,
                          moved: k.moved, waiting: k.waiting, upstream429: k.upstream429, maxQueue: k.maxQueue,
                          waitMs: k.waits.percentiles(includingPending: pending.keys[i] ?? []).honest)
        }
        upstream = UpstreamRow(name: upstreamName, requests: m.upstream.requests, status429: m.upstream.status429,
                               rate429: m.upstream.requests > 0 ? Double(m.upstream.status429) / Double(m.upstream.requests) : 0,
                               completed: completed, failed: failed)
        self.tuningFactor = tuningFactor; self.tuningMoves = tuningMoves; self.warnings = warnings
        self.wallSeconds = wallSeconds
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
                        w.field("waiting", int: g.waiting)
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
                        if let t = k.tunedFromRefillPerSecond { w.field("tuned_from_refill_per_s", number: t) }
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
                    w.field("name", string: upstream.name)
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
            writeReplicas(w)
            w.field("warnings") { w.array(warnings) { w.value(string: $0) } }
            w.field("wall_s", number: wallSeconds)
        }
        return w.out
    }

    // MARK: Table and CSV

    /// A refill figure, with what it was before the tuning rule moved it: "1.05 (tuned from 3)".
    static func refill(_ k: KeyRow) -> String {
        fmt(k.refillPerSecond) + (k.tunedFromRefillPerSecond.map { " (tuned from \(fmt($0)))" } ?? "")
    }

    /// A percentile for a table: "≥" in front when requests still waiting make it a lower bound.
    static func wait(_ x: Double, _ w: WaitPercentiles) -> String { (w.lowerBound ? "≥" : "") + ms(x) }

    public func table() -> String {
        var lines: [String] = []
        lines.append("scenario \(scenario) (\(mode.rawValue)), keying \(keying.rawValue), seed \(seed), \(fmt(durationSeconds)) s \(mode == .live ? "run live" : "simulated") in \(format1(wallSeconds, 3)) s")
        lines.append("")
        let gh = ["group", "clients", "requests", "admitted", "rejected", "timed out", "waiting", "429s",
                  "p50 ms", "p90 ms", "p99 ms", "max ms"]
        lines += Self.grid([gh] + groups.map {
            [$0.name, "\($0.clients)", "\($0.requests)", "\($0.admitted)", "\($0.rejected)", "\($0.timedOut)", "\($0.waiting)",
             "\($0.upstream429)", Self.wait($0.waitMs.p50, $0.waitMs), Self.wait($0.waitMs.p90, $0.waitMs),
             Self.wait($0.waitMs.p99, $0.waitMs), Self.wait($0.waitMs.max, $0.waitMs)]
        })
        lines.append("")
        let kh = ["key", "group", "capacity", "refill/s", "requests", "admitted", "rejected", "timed out", "moved", "waiting",
                  "429s", "max queue", "p50 ms", "p90 ms", "p99 ms", "max ms"]
        lines += Self.grid([kh] + keys.map {
            [$0.key, $0.group, fmt($0.capacity), Self.refill($0), "\($0.requests)", "\($0.admitted)", "\($0.rejected)",
             "\($0.timedOut)", "\($0.moved)", "\($0.waiting)", "\($0.upstream429)", "\($0.maxQueue)",
             Self.wait($0.waitMs.p50, $0.waitMs), Self.wait($0.waitMs.p90, $0.waitMs), Self.wait($0.waitMs.p99, $0.waitMs),
             Self.wait($0.waitMs.max, $0.waitMs)]
        })
        lines.append("")
        var up = "upstream \(upstream.name): \(upstream.requests) requests, \(upstream.status429) answered 429 (\(format1(upstream.rate429 * 100, 2)) %), \(upstream.completed) completed, \(upstream.failed) failed after retries"
        if let f = tuningFactor { up += "; tuning factor \(format1(f, 4)) after \(tuningMoves) moves" }
        lines.append(up)
        if groups.contains(where: { $0.waitMs.lowerBound }) {
            lines.append("≥: requests still waiting counted with their wait so far (a lower bound)")
        }
        lines += replicaLines()
        for warning in warnings { lines.append("warning: " + warning) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One header, one row per group, key and the provider; `scenario`, `seed` and `keying` on
    /// every row so files from several runs can be concatenated.
    public func csv() -> String {
        let header = "kind,name,group,clients,capacity,refill_per_s,tuned_from_refill_per_s,requests,admitted,rejected,timed_out,moved,waiting,upstream_429,completed,failed,max_queue,p50_ms,p90_ms,p99_ms,max_ms,wait_lower_bound,scenario,seed,keying"
        let run = "\(Self.csvField(scenario)),\(seed),\(keying.rawValue)"
        func waits(_ w: WaitPercentiles) -> String { "\(Self.ms(w.p50)),\(Self.ms(w.p90)),\(Self.ms(w.p99)),\(Self.ms(w.max)),\(w.lowerBound)" }
        var rows = [header]
        for g in groups {
            rows.append("group,\(Self.csvField(g.name)),\(Self.csvField(g.name)),\(g.clients),,,,\(g.requests),\(g.admitted),\(g.rejected),\(g.timedOut),,\(g.waiting),\(g.upstream429),,,,\(waits(g.waitMs)),\(run)")
        }
        for k in keys {
            rows.append("key,\(Self.csvField(k.key)),\(Self.csvField(k.group)),,\(fmt(k.capacity)),\(fmt(k.refillPerSecond)),\(k.tunedFromRefillPerSecond.map(fmt) ?? ""),\(k.requests),\(k.admitted),\(k.rejected),\(k.timedOut),\(k.moved),\(k.waiting),\(k.upstream429),,,\(k.maxQueue),\(waits(k.waitMs)),\(run)")
        }
        // The provider: requests it received, those it admitted (not 429), its 429s, and what
        // became of the requests (completed, or failed after the client's retries).
        rows.append("upstream,\(Self.csvField(upstream.name)),,,,,,\(upstream.requests),\(upstream.requests - upstream.status429),,,,,\(upstream.status429),\(upstream.completed),\(upstream.failed),,,,,,,\(run)")
        return withReplicaRows(rows, run: run).joined(separator: "\n") + "\n"
    }

    /// Milliseconds as the report holds them (percentiles already rounded to 3 significant
    /// digits; max exact), with at most 3 decimals.
    static func ms(_ x: Double) -> String { format1(x, 3) }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
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
