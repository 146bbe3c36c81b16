import ArgumentParser
import Fleet
import Foundation
import Gateway
import Hummingbird
import Logging
import ServiceLifecycle

/// `bucketscope mock-upstream`: an OpenAI-compatible API without a model, for offline runs.
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream",
        abstract: "Serve a mock OpenAI-compatible API (chat completions JSON and SSE, completions, embeddings, responses).",
        discussion: """
            Completion lengths come from the Azure LLM trace fits; latency is --ttft + tokens ÷ --speed.
            Its own --rpm/--tpm limits answer 429 with retry-after, like a provider. Stops on SIGTERM/SIGINT.
            Example: bucketscope mock-upstream --listen 127.0.0.1:9000 --rpm 600 --tpm 100000 --ttft 200ms --speed 80
            """)

    @Option(parsing: .unconditional, help: "HOST:PORT to listen on (port 0 picks a free port and prints it).")
    var listen = "127.0.0.1:9000"
    @Option(parsing: .unconditional, help: "Requests per minute it admits (default: unlimited).")
    var rpm: String?
    @Option(parsing: .unconditional, help: "Tokens per minute it admits, prompt + max_tokens at admission (default: unlimited).")
    var tpm: String?
    @Option(parsing: .unconditional, help: "Time to first token, e.g. 0s, 200ms.")
    var ttft = "0s"
    @Option(parsing: .unconditional, help: "Generation speed in tokens per second (0: instant).")
    var speed = "0"
    @Option(parsing: .unconditional, help: "Completion length fit: conversation or code.")
    var profile = "conversation"
    @Option(parsing: .unconditional, help: "Seed of the completion-length draws.")
    var seed = "1"

    func run() async throws {
        let address: ListenAddress
        let configuration: MockUpstreamConfiguration
        do {
            address = try ListenAddress(parsing: listen)
            configuration = try MockUpstreamCommand.parse(rpm: rpm, tpm: tpm, ttft: ttft, speed: speed, profile: profile, seed: seed)
        } catch {
            throw CommandFailure("\(error)")
        }
        let mock = try MockUpstream(configuration)
        let app = Application(
            responder: mock,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                print("mock upstream listening on http://\(address.host):\(channel.localAddress?.port ?? 0)")
                fflushStdout()
            },
            logger: {
                var l = Logger(label: "bucketscope.mock-upstream")
                l.logLevel = .warning   // the line above says where it listens
                return l
            }())
        do {
            try await app.runService()
        } catch {
            throw CommandFailure("mock-upstream: \(error)")
        }
    }

    /// The mock's configuration from flag text (shared with `serve --mock`).
    static func parse(rpm: String?, tpm: String?, ttft: String, speed: String, profile: String, seed: String) throws -> MockUpstreamConfiguration {
        func positive(_ name: String, _ text: String?) throws -> Double? {
            guard let text else { return nil }
            guard let v = Double(text), v.isFinite, v > 0 else { throw GatewayConfigError("--\(name): expected a number > 0, got \"\(text)\"") }
            return v
        }
        var c = MockUpstreamConfiguration()
        c.requestsPerMinute = try positive("rpm", rpm)
        c.tokensPerMinute = try positive("tpm", tpm)
        do { c.timeToFirstToken = .nanoseconds(try DurationText.parse(ttft)) } catch { throw GatewayConfigError("--ttft: \(error)") }
        guard let s = Double(speed), s.isFinite, s >= 0 else { throw GatewayConfigError("--speed: expected a number >= 0, got \"\(speed)\"") }
        c.tokensPerSecond = s
        switch profile {
        case "conversation": c.profile = .conversation
        case "code": c.profile = .code
        default: throw GatewayConfigError("--profile: expected conversation or code, got \"\(profile)\"")
        }
        guard let sd = UInt64(seed) else { throw GatewayConfigError("--seed: expected a whole number >= 0, got \"\(seed)\"") }
        c.seed = sd
        return c
    }
}
