import Fleet
import Foundation
import SharedStore
import TokenBucket

/// A key the configuration knows: its display name, tenant and own limits.
public struct KeyEntry: Sendable, Equatable {
    /// Shown in logs, metrics and the dashboard instead of the key.
    public var name: String
    /// The secret itself (from `key` or the environment variable named by `key_env`).
    public var secret: String
    public var tenant: String?
    public var limits: LimitSpec

    public init(name: String, secret: String, tenant: String? = nil, limits: LimitSpec = LimitSpec()) {
        self.name = name; self.secret = secret; self.tenant = tenant; self.limits = limits
    }
}

/// Everything `bucketscope serve` runs with (schema: `docs/serve.md`). Flags override fields
/// after the file is read.
public struct GatewayConfig: Sendable, Equatable {
    public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    /// Base URL of the OpenAI-compatible API (`https://api.openai.com`); nil with `mock`.
    public var upstream: String?
    /// Serve from a built-in mock upstream started in-process.
    public var mock = false
    public var keying = GatewayKeying.perKey
    /// A provider preset (by name, `bucketscope presets`) sizing every bucket before `[limits]`.
    public var preset: String?
    /// Every bucket set (per key, per tenant or the shared one).
    public var limits = LimitSpec()
    /// Hierarchical keying: each tenant's bucket set above its keys (defaults to `limits`).
    public var parent = LimitSpec()
    public var keys: [KeyEntry] = []
    /// Per-tenant limits: the tenant's set under per-tenant keying, its parent under hierarchical.
    public var tenants: [String: LimitSpec] = [:]
    /// Refuse keys not listed under `[keys.*]` with 401 instead of giving each its own bucket.
    public var refuseUnknownKeys = false
    /// Longest a request waits (FIFO) for admission before a 429; 0 refuses at once.
    public var maxWait: Duration = .zero
    /// Largest request body accepted, in bytes (413 above).
    public var maxBodyBytes = 4 << 20
    /// Output tokens reserved when a request names no max tokens.
    public var defaultMaxTokens = 1024
    /// How long the upstream may take to answer (headers, and then between stream chunks).
    public var upstreamTimeout: Duration = .seconds(600)
    /// How long a client may take to send its request (and stay idle on a kept-alive connection).
    public var clientTimeout: Duration = .seconds(30)
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish.
    public var shutdownTimeout: Duration = .seconds(30)
    /// Keys tracked by name in metrics and the dashboard; more are summed under `(other)`.
    public var trackedKeys = 1000
    /// Limits shared by every replica in Redis (`--store redis://HOST:PORT`, `[store]`), with
    /// the failure policy, replicas and per-call timeout; nil keeps the buckets in this process.
    public var store: SharedStoreSettings?
    /// Prepended to every store key, so several fleets of gateways can share one Redis.
    public var storePrefix = "bucketscope:"
    /// The tuning rule on the upstream's 429s (`[tuning]`, `serve --tuning`); nil: off.
    public var tuning: TuningSpec?
    /// The `[tuning]` section's rule even when it says `enabled = false` (nil without the
    /// section): what `serve --tuning` switches on, so a kept, switched-off section keeps its
    /// window, threshold, cut and raise.
    public var tuningSection: TuningSpec?

    public init() {}

    /// The resolved base level: built-in defaults, under the preset, under `[limits]`.
    public func baseLimits() throws(GatewayConfigError) -> LimitSpec {
        var base = LimitSpec.builtIn
        if let preset {
            guard let p = ProviderPreset.named(preset) else {
                throw GatewayConfigError("preset: unknown preset \"\(preset)\" (see `bucketscope presets`)")
            }
            base = LimitSpec(preset: p).over(LimitSpec(capacity: base.capacity, refill: base.refill))
        }
        return limits.over(base)
    }

    /// Checks every limit once, so a bad value is a startup error rather than a per-request one.
    public func validate() throws(GatewayConfigError) {
        let base = try baseLimits()
        func check(_ spec: LimitSpec, _ field: String) throws(GatewayConfigError) {
            do { _ = try spec.over(base).buckets() } catch { throw GatewayConfigError("\(field): \(error)") }
        }
        try check(LimitSpec(), "limits")
        try check(parent, "parent")
        for k in keys { try check(k.limits, "keys.\(k.name)") }
        for (t, spec) in tenants { try check(spec, "tenants.\(t)") }
        if upstream == nil && !mock { throw GatewayConfigError("upstream: give --upstream URL (or upstream in the config), or --mock") }
        if let u = upstream {
            guard let url = URL(string: u), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw GatewayConfigError("upstream: expected an http:// or https:// URL, got \"\(u)\"")
            }
        }
        if refuseUnknownKeys && keys.isEmpty {
            throw GatewayConfigError("unknown_keys = \"refuse\" needs at least one [keys.NAME] section")
        }
        var seen = Set<String>()
        for k in keys where !seen.insert(k.secret).inserted {
            throw GatewayConfigError("keys.\(k.name): the same key is listed twice")
        }
    }
}
