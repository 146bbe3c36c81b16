import ArgumentParser
import Fleet
import Foundation
import Gateway
import Logging
import SharedStore

/// `bucketscope serve`: a rate-limiting gateway in front of an OpenAI-compatible API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Rate-limit real traffic: an HTTP gateway in front of an OpenAI-compatible API.",
        discussion: """
            Per-key request and token buckets (config: docs/serve.md); over a limit it waits up to --max-wait,
            else answers 429 with retry-after and x-ratelimit-* headers. GET /healthz, GET /metrics (Prometheus).
            On a terminal it shows the dashboard over the live traffic; --headless logs one line per 429.
            Examples:
              bucketscope serve --mock --listen 127.0.0.1:8080
              bucketscope serve --upstream https://api.openai.com --config gateway.toml --max-wait 2s
              bucketscope serve --mock --store redis://127.0.0.1:6379 --on-store-failure local --replicas 3
            """)

    @Option(parsing: .unconditional, help: "Configuration file (TOML, see docs/serve.md).")
    var config: String?
    @Option(parsing: .unconditional,
            help: ArgumentHelp("HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free port and prints it).",
                               valueName: "host:port"))
    var listen: String?
    @Option(parsing: .unconditional, help: "Upstream base URL, e.g. https://api.openai.com.")
    var upstream: String?
    @Flag(help: "Serve from a built-in mock upstream (offline).")
    var mock = false
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Request bucket capacity (burst) of every bucket set, in requests.", valueName: "requests"))
    var capacity: Double?
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Request bucket refill of every bucket set, in requests per second.", valueName: "requests/s"))
    var refill: Double?
    @Option(parsing: .unconditional, help: ArgumentHelp("Tokens per minute of every bucket set.", valueName: "tokens"))
    var tpm: Double?
    @Option(parsing: .unconditional, help: "Keying: per-key, per-tenant, shared or hierarchical.")
    var keying: GatewayKeying?
    @Option(parsing: .unconditional, help: "Provider preset sizing every bucket (see `bucketscope presets`).")
    var preset: String?
    @Option(name: .customLong("max-wait"), parsing: .unconditional,
            help: "Longest FIFO wait for admission before a 429, e.g. 0s, 2s (default 0: refuse at once).")
    var maxWait: DurationArgument?
    @Flag(help: ArgumentHelp("Cut every request refill while the upstream answers 429 (the tuning rule, docs/serve.md).",
                             discussion: "With the config's [tuning] values (even with enabled = false there), else the defaults: "
                                 + "10s windows, cut 20% above a 1% 429 rate, raise 5% after a window without 429s."))
    var tuning = false
    @Flag(name: .customLong("no-tuning"), help: "Switch off the tuning rule a config's [tuning] turns on.")
    var noTuning = false
    @Flag(help: "No dashboard: log one line per limited request (the default without a terminal).")
    var headless = false
    @Option(parsing: .unconditional, help: "Dashboard theme (see `bucketscope themes`).")
    var theme = "default"
    @Option(name: .customLong("mock-rpm"), parsing: .unconditional, help: "With --mock: the mock's own requests per minute.")
    var mockRPM: Double?
    @Option(name: .customLong("mock-tpm"), parsing: .unconditional, help: "With --mock: the mock's own tokens per minute.")
    var mockTPM: Double?
    @Option(name: .customLong("mock-ttft"), parsing: .unconditional, help: "With --mock: time to first token, e.g. 200ms (default 0s).")
    var mockTTFT: DurationArgument?
    @Option(name: .customLong("mock-speed"), parsing: .unconditional,
            help: ArgumentHelp("With --mock: tokens per second (default 0: instant).", valueName: "tokens/s"))
    var mockSpeed: Double?
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Share every limit with the other replicas in Redis (see docs/shared-store.md).",
                               valueName: "redis://host:port"))
    var store: String?
    @Option(name: .customLong("on-store-failure"), parsing: .unconditional,
            help: "While the store does not answer: open (admit), closed (503) or local (limit ÷ --replicas; the default).")
    var onStoreFailure: StoreFailureWord?
    @Option(parsing: .unconditional, help: "Gateways sharing the store: local buckets are sized limit ÷ N while it is away (default 1).")
    var replicas: Int?
    @Option(name: .customLong("store-timeout"), parsing: .unconditional,
            help: "Longest wait for one store call before the failure policy applies, e.g. 50ms (default), 1ms to 10s.")
    var storeTimeout: DurationArgument?

    /// Range checks, in one place; argument-parser has already refused values of the wrong type.
    func validate() throws {
        try GatewayFlagCheck.listen(listen, "--listen")
        try FlagCheck.number(capacity, "--capacity", InputLimits.capacity)
        try FlagCheck.number(refill, "--refill", InputLimits.refill)
        try FlagCheck.number(tpm, "--tpm", InputLimits.perMinute)
        try FlagCheck.duration(maxWait, "--max-wait", InputLimits.anyDuration)
        if tuning && noTuning {
            throw ValidationError("--tuning and --no-tuning: give one (--tuning switches the tuning rule on, --no-tuning off)")
        }
        try GatewayFlagCheck.mock(prefix: "mock-", rpm: mockRPM, tpm: mockTPM, ttft: mockTTFT, speed: mockSpeed)
        if !mock && config == nil, mockRPM != nil || mockTPM != nil || mockTTFT != nil || mockSpeed != nil {
            throw ValidationError("--mock-rpm, --mock-tpm, --mock-ttft and --mock-speed need --mock")
        }
        try GatewayFlagCheck.store(store)
        try FlagCheck.count(replicas, "--replicas", GatewayFlagCheck.replicas)
        try FlagCheck.duration(storeTimeout, "--store-timeout", GatewayFlagCheck.storeTimeout)
        if store == nil && config == nil, onStoreFailure != nil || replicas != nil || storeTimeout != nil {
            throw ValidationError("--on-store-failure, --replicas and --store-timeout need --store")
        }
    }

    func run() async throws {
        let settings: GatewayConfig
        do { settings = try resolve() } catch { throw CommandFailure(error.description) }
        let mockConfiguration = settings.mock
            ? GatewayFlagCheck.mockConfiguration(rpm: mockRPM, tpm: mockTPM, ttft: mockTTFT, speed: mockSpeed) : nil
        let dashboard = !headless && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        var logger = Logger(label: "bucketscope.serve")
        logger.logLevel = dashboard ? .critical : .info
        // On a terminal the dashboard takes the stop signals and shuts the gateway down itself.
        let server = try GatewayServer(config: settings, mock: mockConfiguration, logger: logger, signals: !dashboard)
        if dashboard {
            try await ServeDashboard.run(server: server, theme: theme)
            return
        }
        let announce = Task {
            let port = try await server.boundPort()
            let upstream = settings.mock ? "built-in mock upstream" : settings.upstream ?? ""
            if !dashboard {
                let shared = settings.store.map { ", limits shared in \($0.endpoint), on-store-failure \($0.policy)" } ?? ""
                let tuned = settings.tuning == nil ? "" : ", tuning on"
                print("bucketscope serve listening on http://\(settings.listen.host):\(port) → \(upstream) (keying \(server.responder.limits.keying.rawValue)\(shared)\(tuned))")
                fflushStdout()
            }
            return port
        }
        do {
            try await server.run()
        } catch {
            announce.cancel()
            throw CommandFailure("serve: \(error)")
        }
        announce.cancel()
    }

    /// The configuration file (if any) with the flags over it.
    func resolve() throws(GatewayConfigError) -> GatewayConfig {
        var c = try config.map { path throws(GatewayConfigError) in try GatewayConfig.load(path: path) } ?? GatewayConfig()
        if let listen { c.listen = try ListenAddress(parsing: listen) }
        if let upstream { c.upstream = upstream }
        if mock { c.mock = true }
        if c.mock { c.upstream = nil }
        if let keying { c.keying = keying }
        if let preset { c.preset = preset }
        // Flags override the file's [limits] (and so every bucket set's base).
        if let capacity { c.limits.capacity = capacity }
        if let refill { c.limits.refill = refill }
        if let tpm { c.limits.tokensPerMinute = tpm }
        if let maxWait { c.maxWait = .nanoseconds(maxWait.nanoseconds) }
        if tuning { c.tuning = c.tuningSection ?? TuningSpec() }
        if noTuning { c.tuning = nil }
        c.store = try storeSettings(over: c.store)
        try c.validate()
        return c
    }

    /// `--store` and its companions over the file's `[store]`.
    private func storeSettings(over file: SharedStoreSettings?) throws(GatewayConfigError) -> SharedStoreSettings? {
        guard store != nil || file != nil else {
            if onStoreFailure != nil || replicas != nil || storeTimeout != nil {
                throw GatewayConfigError("--on-store-failure, --replicas and --store-timeout need --store (or [store] in the config)")
            }
            return nil
        }
        let url = store ?? file.map { "\($0.endpoint)" } ?? ""
        let fileWord: String
        let fileReplicas: Int
        switch file?.policy {
        case .open: (fileWord, fileReplicas) = ("open", 1)
        case .closed: (fileWord, fileReplicas) = ("closed", 1)
        case .local(let n): (fileWord, fileReplicas) = ("local", n)
        case nil: (fileWord, fileReplicas) = ("local", 1)
        }
        do {
            return try SharedStoreSettings(store: url, onFailure: onStoreFailure?.rawValue ?? fileWord,
                                           replicas: replicas ?? fileReplicas,
                                           timeout: storeTimeout.map { .nanoseconds($0.nanoseconds) } ?? file?.timeout ?? .milliseconds(50),
                                           connections: file?.connections ?? 2)
        } catch {
            throw GatewayConfigError(error.description)
        }
    }
}
