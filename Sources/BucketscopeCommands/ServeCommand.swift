import ArgumentParser
import Fleet
import Foundation
import Gateway
import Logging

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
            """)

    @Option(parsing: .unconditional, help: "Configuration file (TOML, see docs/serve.md).")
    var config: String?
    @Option(parsing: .unconditional, help: "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free port and prints it).")
    var listen: String?
    @Option(parsing: .unconditional, help: "Upstream base URL, e.g. https://api.openai.com.")
    var upstream: String?
    @Flag(help: "Serve from a built-in mock upstream (offline).")
    var mock = false
    @Option(parsing: .unconditional, help: "Request bucket capacity (burst) of every bucket set, in requests.")
    var capacity: String?
    @Option(parsing: .unconditional, help: "Request bucket refill of every bucket set, in requests per second.")
    var refill: String?
    @Option(parsing: .unconditional, help: "Tokens per minute of every bucket set.")
    var tpm: String?
    @Option(parsing: .unconditional, help: "Keying: per-key, per-tenant, shared or hierarchical.")
    var keying: String?
    @Option(parsing: .unconditional, help: "Provider preset sizing every bucket (see `bucketscope presets`).")
    var preset: String?
    @Option(name: .customLong("max-wait"), parsing: .unconditional, help: "Longest FIFO wait for admission before a 429, e.g. 0s, 2s (default 0: refuse at once).")
    var maxWait: String?
    @Flag(help: "No dashboard: log one line per limited request (the default without a terminal).")
    var headless = false
    @Option(parsing: .unconditional, help: "Dashboard theme (see `bucketscope themes`).")
    var theme = "default"
    @Option(name: .customLong("mock-rpm"), parsing: .unconditional, help: "With --mock: the mock's own requests per minute.")
    var mockRPM: String?
    @Option(name: .customLong("mock-tpm"), parsing: .unconditional, help: "With --mock: the mock's own tokens per minute.")
    var mockTPM: String?
    @Option(name: .customLong("mock-ttft"), parsing: .unconditional, help: "With --mock: time to first token.")
    var mockTTFT = "0s"
    @Option(name: .customLong("mock-speed"), parsing: .unconditional, help: "With --mock: tokens per second (0: instant).")
    var mockSpeed = "0"

    func run() async throws {
        let settings: GatewayConfig
        var mockConfiguration: MockUpstreamConfiguration?
        do {
            settings = try resolve()
            if settings.mock {
                mockConfiguration = try MockUpstreamCommand.parse(rpm: mockRPM, tpm: mockTPM, ttft: mockTTFT, speed: mockSpeed,
                                                                  profile: "conversation", seed: "1")
            }
        } catch let e as GatewayConfigError {
            throw CommandFailure(e.description)
        }
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
                print("bucketscope serve listening on http://\(settings.listen.host):\(port) → \(upstream) (keying \(server.responder.limits.keying.rawValue))")
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
        func number(_ name: String, _ text: String?) throws(GatewayConfigError) -> Double? {
            guard let text else { return nil }
            guard let v = Double(text), v.isFinite, v > 0 else { throw GatewayConfigError("--\(name): expected a number > 0, got \"\(text)\"") }
            return v
        }
        if let listen { c.listen = try ListenAddress(parsing: listen) }
        if let upstream { c.upstream = upstream }
        if mock { c.mock = true }
        if c.mock { c.upstream = nil }
        if let keying {
            guard let k = GatewayKeying(name: keying) else {
                throw GatewayConfigError("--keying: expected one of \(GatewayKeying.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(keying)\"")
            }
            c.keying = k
        }
        if let preset { c.preset = preset }
        // Flags override the file's [limits] (and so every bucket set's base).
        if let v = try number("capacity", capacity) { c.limits.capacity = v }
        if let v = try number("refill", refill) { c.limits.refill = v }
        if let v = try number("tpm", tpm) { c.limits.tokensPerMinute = v }
        if let maxWait {
            do { c.maxWait = .nanoseconds(try DurationText.parse(maxWait)) } catch { throw GatewayConfigError("--max-wait: \(error)") }
        }
        try c.validate()
        return c
    }
}
