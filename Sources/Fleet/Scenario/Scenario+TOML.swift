import Foundation
import TOMLKit
import TokenBucket

/// A scenario file that cannot be used, with the file, line and field at fault:
/// `scenarios/x.toml:7: rate: expected a number, got "fast"`.
public struct ScenarioError: Error, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the field is missing (the message says where it belongs).
    public var line: Int?
    public var field: String
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(field.isEmpty ? "" : field + ": ")\(message)"
    }
}

extension Scenario {
    /// Reads a scenario file (schema: `docs/scenario-format.md`).
    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioError(file: path, line: nil, field: "", message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, line: nil, field: "", message: "not UTF-8 text")
        }
        return try parse(toml: text, file: path)
    }

    /// Parses scenario TOML; `file` names the source in errors.
    public static func parse(toml text: String, file: String = "<scenario>") throws -> Scenario {
        // toml++ (inside TOMLKit) asserts, and so aborts the process, on some malformed input:
        // refuse that input first, naming the line.
        if let refusal = TOMLShield.refusal(text) {
            throw ScenarioError(file: file, line: refusal.line, field: "", message: refusal.message)
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ScenarioError(file: file, line: e.source.begin.line, field: "", message: e.description)
        }
        let map = SourceMap(text: text, file: file)
        let r = TableReader(root, section: "", index: nil, map: map)
        let name = try r.string("name") ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let description = try r.string("description") ?? ""
        let keying = try r.enumValue("keying", Keying.self) ?? .perUser
        let duration = try r.duration("duration", InputLimits.runDuration) ?? 60_000_000_000
        let queueLimit = try r.int("queue_limit", InputLimits.queueLimit) ?? Scenario.defaultQueueLimit

        // [limits] and its sub-tables.
        let lr = try r.table("limits")
        let perUser = try lr?.bucket(default: BucketSpec(capacity: 10, refillPerSecond: 2)) ?? BucketSpec(capacity: 10, refillPerSecond: 2)
        let perTenant = try lr?.table("per_tenant")?.bucketAndFinish(default: perUser) ?? perUser
        let shared = try lr?.table("shared")?.bucketAndFinish(default: perUser) ?? perUser
        var scope = ClientLimits.ParentScope.tenant
        var parent: BucketSpec?
        if let pr = try lr?.table("parent") {
            scope = try pr.enumValue("scope", ClientLimits.ParentScope.self) ?? .tenant
            parent = try pr.bucketAndFinish(default: scope == .tenant ? perTenant : shared)
        }
        try lr?.finish()
        let limits = ClientLimits(perUser: perUser, perTenant: perTenant, shared: shared, parentScope: scope, parent: parent)

        // [upstream]
        var upstream = UpstreamSpec()
        if let ur = try r.table("upstream") {
            upstream.name = try ur.string("name") ?? upstream.name
            var l = ProviderLimits()
            if let p = try ur.string("preset") {
                guard let preset = ProviderLimits.preset(named: p) else {
                    throw ur.error("preset", "unknown preset \"\(p)\" (presets: \(ProviderLimits.presetNames.joined(separator: ", ")))")
                }
                l = preset
            }
            l.requestsPerMinute = try ur.number("rpm", InputLimits.perMinute) ?? l.requestsPerMinute
            l.tokensPerMinute = try ur.number("tpm", InputLimits.perMinute) ?? l.tokensPerMinute
            l.inputTokensPerMinute = try ur.number("input_tpm", InputLimits.perMinute) ?? l.inputTokensPerMinute
            l.outputTokensPerMinute = try ur.number("output_tpm", InputLimits.perMinute) ?? l.outputTokensPerMinute
            l.burstPerSecond = try ur.bool("burst_per_second") ?? l.burstPerSecond
            upstream.limits = l
            upstream.ttft = try ur.range("ttft", InputLimits.ttft) ?? upstream.ttft
            upstream.tokensPerSecond = try ur.range("tokens_per_s", InputLimits.tokensPerSecond) ?? upstream.tokensPerSecond
            try ur.finish()
        }

        // [tuning]
        var tuning: TuningSpec?
        if let tr = try r.table("tuning") {
            var t = TuningSpec()
            let enabled = try tr.bool("enabled") ?? true
            t.window = try tr.duration("window", InputLimits.tuningWindow) ?? t.window
            t.threshold = try tr.number("threshold", InputLimits.threshold) ?? t.threshold
            t.cut = try tr.number("cut", InputLimits.cut) ?? t.cut
            if let up = try tr.number("raise", InputLimits.raise) { t.raise = up == 0 ? nil : up }
            try tr.finish()
            tuning = enabled ? t : nil
        }

        // [replicas]
        let replicas = try r.table("replicas").map { try $0.replicas() }

        // [[clients]]
        var clients: [ClientSpec] = []
        let clientReaders = try r.tableArray("clients")
        guard !clientReaders.isEmpty else {
            throw ScenarioError(file: file, line: nil, field: "clients", message: "a scenario needs at least one [[clients]] table")
        }
        for cr in clientReaders {
            guard let cname = try cr.string("name") else { throw cr.missing("name") }
            let group = try cr.string("group") ?? cname
            let tenant = try cr.string("tenant")
            let count = try cr.int("count", InputLimits.clientCount) ?? 1
            let kind = try cr.string("arrival") ?? "poisson"
            let arrival: Arrival
            switch kind {
            case "steady", "poisson":
                guard let rate = try cr.number("rate", InputLimits.clientRate) else { throw cr.missing("rate") }
                arrival = kind == "steady" ? .steady(rate: rate) : .poisson(rate: rate)
            case "on-off":
                guard let rate = try cr.number("rate", InputLimits.clientRate) else { throw cr.missing("rate") }
                guard let on = try cr.duration("on", InputLimits.onPeriod) else { throw cr.missing("on") }
                let off = try cr.duration("off", InputLimits.anyDuration) ?? 0
                let perPeriod = rate * Double(on) / 1e9
                if perPeriod < InputLimits.minimumRequestsPerOnPeriod {
                    throw cr.error("on", "rate × on is \(NumberText.format(perPeriod)) requests per on period, must be at least "
                                   + "\(NumberText.format(InputLimits.minimumRequestsPerOnPeriod)) (raise rate or on)")
                }
                arrival = .onOff(rate: rate, on: on, off: off)
            case "closed-loop":
                let n = try cr.int("concurrency", InputLimits.concurrency) ?? 1
                let think = try cr.duration("think", InputLimits.anyDuration) ?? 0
                arrival = .closedLoop(concurrency: n, think: think)
            case "ramp":
                let from = try cr.number("from", InputLimits.rampRate) ?? 0
                guard let to = try cr.number("to", InputLimits.rampRate) else { throw cr.missing("to") }
                guard let over = try cr.duration("over", InputLimits.positiveDuration) else { throw cr.missing("over") }
                if from + to <= 0 { throw cr.error("to", "a ramp from 0 to 0 sends nothing") }
                arrival = .ramp(from: from, to: to, over: over)
            default:
                throw cr.error("arrival", "expected one of steady, poisson, on-off, closed-loop, ramp, got \"\(kind)\"")
            }
            let cost: CostModel
            switch try cr.value("cost") {
            case nil: cost = .request
            case .some(.string("request")): cost = .request
            case .some(.string("conversation")): cost = .llm(.conversation)
            case .some(.string("code")): cost = .llm(.code)
            case .some(.number(let x)):
                if let problem = InputLimits.cost.violation(x) { throw cr.error("cost", problem) }
                cost = .fixed(x)
            case .some(let other):
                throw cr.error("cost", "expected \"request\", \"conversation\", \"code\" or a number of tokens, got \(other)")
            }
            let retryKind = try cr.string("retry") ?? "sdk"
            let retry: RetryPolicy
            switch retryKind {
            case "none": retry = .none
            case "fixed":
                retry = .fixed(delay: try cr.duration("retry_delay", InputLimits.anyDuration) ?? 1_000_000_000,
                               maxRetries: try cr.int("retries", InputLimits.retries) ?? 2)
            case "sdk", "exponential":
                retry = .exponential(maxRetries: try cr.int("retries", InputLimits.retries) ?? 2,
                                     base: try cr.duration("backoff_base", InputLimits.positiveDuration) ?? 500_000_000,
                                     cap: try cr.duration("backoff_cap", InputLimits.positiveDuration) ?? 8_000_000_000,
                                     honourRetryAfter: try cr.bool("honour_retry_after") ?? true)
            default:
                throw cr.error("retry", "expected one of none, fixed, sdk, got \"\(retryKind)\"")
            }
            let deadline = try cr.duration("deadline", InputLimits.positiveDuration)
            let noisy = try cr.bool("noisy") ?? false
            try cr.finish()
            clients.append(ClientSpec(name: cname, group: group, tenant: tenant, count: count, arrival: arrival, cost: cost,
                                      retry: retry, deadline: deadline, noisy: noisy))
        }
        try r.finish()
        let s = Scenario(name: name, description: description, keying: keying, duration: duration, limits: limits,
                         clients: clients, upstream: upstream, tuning: tuning, queueLimit: queueLimit,
                         replicas: replicas)
        do {
            try s.checkTotals()
        } catch {
            throw error.client.map { clientReaders[$0].error(error.field, error.message) }
                ?? ScenarioError(file: file, line: nil, field: error.field, message: error.message)
        }
        do {
            try FleetCore.validate(s)
        } catch let e as FleetError {
            throw ScenarioError(file: file, line: nil, field: "", message: e.description)
        } catch let e as BucketError {
            throw ScenarioError(file: file, line: map.line(section: "limits", index: nil, key: nil), field: "limits", message: e.description)
        }
        return s
    }
}

// MARK: Reading fields with their line numbers

/// Finds the line of a key in the source text (TOMLKit does not report positions of values):
/// tracks `[section]` and `[[array]]` headers and matches `key =` at the start of a line.
struct SourceMap {
    let lines: [Substring]
    let file: String

    init(text: String, file: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        self.file = file
    }

    /// 1-based line of the first `[name]` or `[[name]]` header.
    func headerLine(_ name: String) -> Int? {
        for (n, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            guard l.hasPrefix("[") else { continue }
            let inner = l.drop { $0 == "[" }.prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
            if inner == name || inner == "\"\(name)\"" { return n + 1 }
        }
        return nil
    }

    /// 1-based line of `key` in `section` (the `index`-th table of an array of tables), or of the
    /// section header when `key` is nil or not found.
    func line(section: String, index: Int?, key: String?) -> Int? {
        var current = ""
        var currentIndex: Int?
        var arrayCounts: [String: Int] = [:]
        var headerLine: Int?
        for (n, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("[[") {
                let name = l.dropFirst(2).prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                let i = arrayCounts[name, default: 0]
                arrayCounts[name] = i + 1
                current = name; currentIndex = i
                if current == section && currentIndex == index { headerLine = n + 1 }
                continue
            }
            if l.hasPrefix("[") {
                current = l.dropFirst().prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                currentIndex = nil
                if current == section && index == nil { headerLine = n + 1 }
                continue
            }
            guard current == section, currentIndex == index, let key else { continue }
            for candidate in [key, "\"\(key)\""] where l.hasPrefix(candidate) {
                let rest = l.dropFirst(candidate.count).drop { $0 == " " || $0 == "\t" }
                if rest.hasPrefix("=") { return n + 1 }
            }
        }
        return headerLine
    }
}

/// A scalar as read from TOML, for messages.
enum ScalarValue: CustomStringConvertible {
    case number(Double), string(String), bool(Bool), other(String)
    var description: String {
        switch self {
        case .number(let x): return NumberText.format(x)
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return String(b)
        case .other(let s): return s
        }
    }
}

/// Reads one table's fields, remembering which it read so unknown (misspelt) fields are errors.
final class TableReader {
    let table: TOMLTable
    let section: String
    let index: Int?
    let map: SourceMap
    private var seen: Set<String> = []

    init(_ table: TOMLTable, section: String, index: Int?, map: SourceMap) {
        self.table = table; self.section = section; self.index = index; self.map = map
    }

    func error(_ key: String, _ message: String) -> ScenarioError {
        let line = map.line(section: section, index: index, key: key)
            ?? map.headerLine(section.isEmpty ? key : section + "." + key)
        return ScenarioError(file: map.file, line: line, field: key, message: message)
    }

    func missing(_ key: String) -> ScenarioError {
        let where_ = section.isEmpty ? "at the top level" : index != nil ? "in this [[\(section)]] table" : "in [\(section)]"
        return ScenarioError(file: map.file, line: map.line(section: section, index: index, key: nil), field: key,
                             message: "required \(where_)")
    }

    func value(_ key: String) throws -> ScalarValue? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        switch v.type {
        case .int: return .number(Double(v.int!))
        case .double: return .number(v.double!)
        case .string: return .string(v.string!)
        case .bool: return .bool(v.bool!)
        case .table: return .other("a table")
        case .array: return .other("an array")
        default: return .other(v.type.description)
        }
    }

    /// A number in `valid` (its message names the range).
    func number(_ key: String, _ valid: ValidRange) throws -> Double? {
        guard let v = try value(key) else { return nil }
        guard case .number(let x) = v else { throw error(key, "expected a number, got \(v)") }
        if let problem = valid.violation(x) { throw error(key, problem) }
        return x
    }

    /// A whole number in `valid`.
    func int(_ key: String, _ valid: ValidCount) throws -> Int? {
        guard let v = try value(key) else { return nil }
        guard case .number(let x) = v, x == x.rounded(), abs(x) < 1e15 else {
            throw error(key, "expected a whole number, got \(v) (valid: \(valid))")
        }
        if let problem = valid.violation(Int(x)) { throw error(key, problem) }
        return Int(x)
    }

    func string(_ key: String) throws -> String? {
        guard let v = try value(key) else { return nil }
        guard case .string(let s) = v else { throw error(key, "expected a string, got \(v)") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = try value(key) else { return nil }
        guard case .bool(let b) = v else { throw error(key, "expected true or false, got \(v)") }
        return b
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws -> E? where E.RawValue == String {
        guard let s = try string(key) else { return nil }
        guard let e = E(rawValue: s) else {
            throw error(key, "expected one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(s)\"")
        }
        return e
    }

    /// A duration in `valid`: a string such as "90s" or "500ms", or a number of seconds.
    func duration(_ key: String, _ valid: ValidDuration) throws -> Nanoseconds? {
        guard let v = try value(key) else { return nil }
        let ns: Nanoseconds
        switch v {
        case .number(let x):
            // Checked in seconds first, so no conversion can trap.
            let seconds = ValidRange(Double(valid.lower) / 1e9, Double(valid.upper) / 1e9, unit: "seconds")
            if let problem = seconds.violation(x) { throw error(key, problem) }
            ns = Nanoseconds((x * 1e9).rounded())
        case .string(let s):
            do { ns = try DurationText.parse(s) } catch let e as FleetError { throw error(key, "\(e.description) (valid: \(valid))") }
        default:
            throw error(key, "expected a duration such as \"90s\", got \(v)")
        }
        if let problem = valid.violation(ns) { throw error(key, problem) }
        return ns
    }

    /// `[lo, hi]`, or one number for both, each in `valid`.
    func range(_ key: String, _ valid: ValidRange) throws -> ClosedRange<Double>? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        if let arr = v.array {
            let xs = arr.compactMap { $0.double ?? $0.int.map(Double.init) }
            guard xs.count == 2, arr.count == 2 else { throw error(key, "expected [low, high], two numbers") }
            for x in xs { if let problem = valid.violation(x) { throw error(key, problem) } }
            guard xs[0] <= xs[1] else { throw error(key, "low \(NumberText.format(xs[0])) is above high \(NumberText.format(xs[1]))") }
            return xs[0]...xs[1]
        }
        guard let x = try number(key, valid) else { return nil }
        return x...x
    }

    func table(_ key: String) throws -> TableReader? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        guard let t = v.table else { throw error(key, "expected a table") }
        return TableReader(t, section: section.isEmpty ? key : section + "." + key, index: nil, map: map)
    }

    func tableArray(_ key: String) throws -> [TableReader] {
        seen.insert(key)
        guard let v = table[key] else { return [] }
        guard let arr = v.array else { throw error(key, "expected [[\(key)]] tables") }
        var out: [TableReader] = []
        for (i, item) in arr.enumerated() {
            guard let t = item.table else { throw error(key, "expected [[\(key)]] tables") }
            out.append(TableReader(t, section: key, index: i, map: map))
        }
        return out
    }

    /// `capacity` and `refill` of a bucket table.
    func bucket(default d: BucketSpec) throws -> BucketSpec {
        BucketSpec(capacity: try number("capacity", InputLimits.capacity) ?? d.capacity,
                   refillPerSecond: try number("refill", InputLimits.refill) ?? d.refillPerSecond)
    }

    func bucketAndFinish(default d: BucketSpec) throws -> BucketSpec {
        let b = try bucket(default: d)
        try finish()
        return b
    }

    /// Rejects fields this reader never asked for (usually a typo).
    func finish() throws {
        for k in table.keys.sorted() where !seen.contains(k) {
            if let t = table[k], t.table != nil || (t.array?.first?.table != nil) {
                throw error(k, "unknown table (see docs/scenario-format.md)")
            }
            throw error(k, "unknown field")
        }
    }
}
