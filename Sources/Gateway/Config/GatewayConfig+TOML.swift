import Fleet
import Foundation
import SharedStore
import TOMLKit
import TokenBucket

extension GatewayConfig {
    /// Reads a configuration file (schema: `docs/serve.md`).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(GatewayConfigError) -> GatewayConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GatewayConfigError("\(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw GatewayConfigError("\(path): not UTF-8 text") }
        do {
            return try parse(toml: text, environment: environment)
        } catch {
            throw GatewayConfigError("\(path): \(error.description)")
        }
    }

    /// Parses configuration TOML. Unknown fields are errors (usually a typo).
    public static func parse(toml text: String, environment: [String: String] = [:]) throws(GatewayConfigError) -> GatewayConfig {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch {
            throw GatewayConfigError("line \((error as? TOMLParseError)?.source.begin.line ?? 0): \(error)")
        }
        var c = GatewayConfig()
        let r = ConfigTable(root, section: "")
        if let s = try r.string("listen") { c.listen = try ListenAddress(parsing: s) }
        c.upstream = try r.string("upstream")
        c.mock = try r.bool("mock") ?? false
        if let k = try r.string("keying") {
            guard let keying = GatewayKeying(name: k) else {
                throw r.error("keying", "expected one of \(GatewayKeying.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(k)\"")
            }
            c.keying = keying
        }
        c.preset = try r.string("preset")
        c.maxWait = try r.duration("max_wait") ?? c.maxWait
        c.maxBodyBytes = try r.int("max_body", min: 1) ?? c.maxBodyBytes
        c.defaultMaxTokens = try r.int("default_max_tokens", min: 0) ?? c.defaultMaxTokens
        c.upstreamTimeout = try r.duration("upstream_timeout", positive: true) ?? c.upstreamTimeout
        c.clientTimeout = try r.duration("client_timeout", positive: true) ?? c.clientTimeout
        c.shutdownTimeout = try r.duration("shutdown_timeout") ?? c.shutdownTimeout
        c.trackedKeys = try r.int("tracked_keys", min: 1) ?? c.trackedKeys
        if let u = try r.string("unknown_keys") {
            guard u == "allow" || u == "refuse" else { throw r.error("unknown_keys", "expected \"allow\" or \"refuse\", got \"\(u)\"") }
            c.refuseUnknownKeys = u == "refuse"
        }
        if let t = try r.table("limits") { c.limits = try t.limits(); try t.finish() }
        if let t = try r.table("parent") { c.parent = try t.limits(); try t.finish() }
        if let keys = try r.table("keys") {
            for name in keys.table.keys.sorted() {
                guard let k = try keys.table(name) else { continue }
                let secret: String
                if let s = try k.string("key") {
                    secret = s
                } else if let env = try k.string("key_env") {
                    guard let s = environment[env], !s.isEmpty else {
                        throw k.error("key_env", "environment variable \(env) is not set")
                    }
                    secret = s
                } else {
                    throw k.error("key", "required: the API key (or key_env naming an environment variable)")
                }
                c.keys.append(KeyEntry(name: name, secret: secret, tenant: try k.string("tenant"), limits: try k.limits()))
                try k.finish()
            }
            try keys.finish()
        }
        if let tenants = try r.table("tenants") {
            for name in tenants.table.keys.sorted() {
                guard let t = try tenants.table(name) else { continue }
                c.tenants[name] = try t.limits()
                try t.finish()
            }
            try tenants.finish()
        }
        if let t = try r.table("store") { (c.store, c.storePrefix) = try t.store(); try t.finish() }
        if let t = try r.table("tuning") {
            let (spec, enabled) = try tuning(t)
            c.tuningSection = spec
            c.tuning = enabled ? spec : nil
        }
        try r.finish()
        return c
    }
}

/// Reads one table's fields, remembering which it read so unknown fields are errors.
final class ConfigTable {
    let table: TOMLTable
    let section: String
    private var seen: Set<String> = []

    init(_ table: TOMLTable, section: String) { self.table = table; self.section = section }

    func error(_ key: String, _ message: String) -> GatewayConfigError {
        GatewayConfigError("\(section.isEmpty ? "" : section + ".")\(key): \(message)")
    }

    private func describe(_ v: any TOMLValueConvertible) -> String {
        switch v.type {
        case .string: return "\"\(v.string!)\""
        case .table: return "a table"
        case .array: return "an array"
        default: return "\(v)"
        }
    }

    func number(_ key: String) throws(GatewayConfigError) -> Double? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        let x: Double
        if let i = v.int { x = Double(i) } else if let d = v.double { x = d } else {
            throw error(key, "expected a number, got \(describe(v))")
        }
        guard x.isFinite, x > 0 else { throw error(key, "must be > 0, got \(x)") }
        return x
    }

    func int(_ key: String, min: Int) throws(GatewayConfigError) -> Int? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        guard let i = v.int else { throw error(key, "expected a whole number, got \(describe(v))") }
        guard i >= min else { throw error(key, "must be >= \(min), got \(i)") }
        return i
    }

    func string(_ key: String) throws(GatewayConfigError) -> String? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw error(key, "expected a string, got \(describe(v))") }
        return s
    }

    func bool(_ key: String) throws(GatewayConfigError) -> Bool? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw error(key, "expected true or false, got \(describe(v))") }
        return b
    }

    /// A duration string (`500ms`, `2s`, `1m`) or a number of seconds.
    func duration(_ key: String, positive: Bool = false) throws(GatewayConfigError) -> Duration? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        let ns: Int64
        if let s = v.string {
            do { ns = try DurationText.parse(s) } catch { throw self.error(key, "\(error)") }
        } else if let i = v.int, i >= 0 {
            ns = Int64(i) * 1_000_000_000
        } else if let d = v.double, d.isFinite, d >= 0, d < 9e9 {
            ns = Int64(d * 1e9)
        } else {
            throw error(key, "expected a duration such as \"500ms\" or \"2s\", got \(describe(v))")
        }
        if positive && ns == 0 { throw error(key, "must be > 0") }
        return .nanoseconds(ns)
    }

    func table(_ key: String) throws(GatewayConfigError) -> ConfigTable? {
        seen.insert(key)
        guard let v = table[key] else { return nil }
        guard let t = v.table else { throw error(key, "expected a table ([\(section.isEmpty ? key : section + "." + key)])") }
        return ConfigTable(t, section: section.isEmpty ? key : section + "." + key)
    }

    /// The limit fields: `capacity`, `refill` (or `rpm`), `tpm`, `input_tpm`, `output_tpm`.
    func limits() throws(GatewayConfigError) -> LimitSpec {
        var spec = LimitSpec(capacity: try number("capacity"), refill: try number("refill"),
                             tokensPerMinute: try number("tpm"), inputTokensPerMinute: try number("input_tpm"),
                             outputTokensPerMinute: try number("output_tpm"))
        if let rpm = try number("rpm") {
            guard spec.refill == nil else { throw error("rpm", "give either rpm or refill, not both") }
            spec.refill = rpm / 60
            if spec.capacity == nil { spec.capacity = Swift.max(1, rpm / 60) }
        }
        return spec
    }

    /// The `[store]` fields: `url` (required), `on_failure` (open, closed, local), `replicas`,
    /// `timeout` (per store call), `connections`, `prefix`.
    func store() throws(GatewayConfigError) -> (SharedStoreSettings, String) {
        guard let url = try string("url") else { throw error("url", "required: the Redis URL, e.g. \"redis://127.0.0.1:6379\"") }
        let policy = try string("on_failure") ?? "local"
        guard ["open", "closed", "local"].contains(policy) else {
            throw error("on_failure", "expected \"open\", \"closed\" or \"local\", got \"\(policy)\"")
        }
        let replicas = try int("replicas", min: 1) ?? 1
        let timeout = try duration("timeout", positive: true) ?? .milliseconds(50)
        guard timeout >= .milliseconds(1), timeout <= .seconds(10) else { throw error("timeout", "must be 1ms to 10s, got \(timeout)") }
        let connections = try int("connections", min: 1) ?? 2
        guard connections <= 64 else { throw error("connections", "must be <= 64, got \(connections)") }
        let prefix = try string("prefix") ?? "bucketscope:"
        do {
            return (try SharedStoreSettings(store: url, onFailure: policy, replicas: replicas, timeout: timeout, connections: connections), prefix)
        } catch {
            throw self.error("url", error.description.replacingOccurrences(of: "--store: ", with: ""))
        }
    }

    func finish() throws(GatewayConfigError) {
        for k in table.keys.sorted() where !seen.contains(k) {
            throw error(k, "unknown field")
        }
    }
}
