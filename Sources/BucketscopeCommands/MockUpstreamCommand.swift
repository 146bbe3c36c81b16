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

    @Option(parsing: .unconditional,
            help: ArgumentHelp("HOST:PORT to listen on (port 0 picks a free port and prints it).", valueName: "host:port"))
    var listen = "127.0.0.1:9000"
    @Option(parsing: .unconditional, help: "Requests per minute it admits (default: unlimited).")
    var rpm: Double?
    @Option(parsing: .unconditional, help: "Tokens per minute it admits, prompt + max_tokens at admission (default: unlimited).")
    var tpm: Double?
    @Option(parsing: .unconditional, help: "Time to first token, e.g. 0s, 200ms (default 0s).")
    var ttft: DurationArgument?
    @Option(parsing: .unconditional, help: ArgumentHelp("Generation speed (default 0: instant).", valueName: "tokens/s"))
    var speed: Double?
    @Option(parsing: .unconditional, help: "Completion length fit: conversation or code.")
    var profile = MockProfile.conversation
    @Option(parsing: .unconditional, help: "Seed of the completion-length draws, 0 to 2^64-1.")
    var seed: UInt64 = 1

    /// Range checks, in one place (shared with `serve --mock-*`).
    func validate() throws {
        try GatewayFlagCheck.listen(listen, "--listen")
        try GatewayFlagCheck.mock(prefix: "", rpm: rpm, tpm: tpm, ttft: ttft, speed: speed)
    }

    func run() async throws {
        let address: ListenAddress
        do { address = try ListenAddress(parsing: listen) } catch { throw CommandFailure("--\(error)") }
        let configuration = GatewayFlagCheck.mockConfiguration(rpm: rpm, tpm: tpm, ttft: ttft, speed: speed, profile: profile, seed: seed)
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
}
