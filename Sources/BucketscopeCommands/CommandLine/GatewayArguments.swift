import ArgumentParser
import Fleet
import Gateway
import SharedStore

// The typed values of `serve` and `mock-upstream` flags, and their range checks in one place
// (`GatewayFlagCheck`), called from each command's `validate()`: a bad value prints one line,
// `bucketscope: --flag …`, and exits 2, as every other command's flags do.

extension GatewayKeying: ExpressibleByArgument {
    /// Also the dashboard's `per-user` for `per-key`.
    public init?(argument: String) { self.init(name: argument) }
}

/// `--on-store-failure`: what a gateway does while the shared store does not answer.
enum StoreFailureWord: String, CaseIterable, ExpressibleByArgument {
    case open, closed, local
}

/// `--profile`: the completion-length fit the mock draws from.
enum MockProfile: String, CaseIterable, ExpressibleByArgument {
    case conversation, code

    var profile: LLMProfile { self == .code ? .code : .conversation }
}

/// The ranges of the gateway's flags.
enum GatewayFlagCheck {
    /// `--replicas`: how many gateways share the limits (the `local` fallback's divisor).
    static let replicas = ValidCount(1, 10_000)
    /// `--store-timeout`: per store call, well under any request's own timeout.
    static let storeTimeout = ValidDuration(InputLimits.millisecond, 10 * InputLimits.second)
    /// `--mock-ttft` / `--ttft`.
    static let ttft = ValidDuration(0, 3_600 * InputLimits.second)
    /// `--mock-speed` / `--speed`: tokens per second, 0 for instant.
    static let speed = ValidRange(0.001, 1e9, unit: "tokens per second", zeroAllowed: true)

    /// The mock's flags (named `prefix` + name: `--mock-rpm` under serve, `--rpm` alone).
    static func mock(prefix: String, rpm: Double?, tpm: Double?, ttft: DurationArgument?, speed: Double?) throws {
        try FlagCheck.number(rpm, "--\(prefix)rpm", InputLimits.perMinute)
        try FlagCheck.number(tpm, "--\(prefix)tpm", InputLimits.perMinute)
        try FlagCheck.duration(ttft, "--\(prefix)ttft", Self.ttft)
        try FlagCheck.number(speed, "--\(prefix)speed", Self.speed)
    }

    /// `--listen HOST:PORT` (and the like): the parser's own message, naming the flag.
    static func listen(_ text: String?, _ flag: String) throws {
        guard let text else { return }
        do { _ = try ListenAddress(parsing: text) } catch {
            throw ValidationError("\(flag): \(error.description.replacingOccurrences(of: "listen: ", with: ""))")
        }
    }

    /// `--store redis://HOST:PORT`.
    static func store(_ text: String?) throws {
        guard let text else { return }
        do { _ = try RedisEndpoint(text) } catch { throw ValidationError("--store: \(error.description)") }
    }

    /// The mock's configuration from checked flags.
    static func mockConfiguration(rpm: Double?, tpm: Double?, ttft: DurationArgument?, speed: Double?,
                                  profile: MockProfile = .conversation, seed: UInt64 = 1) -> MockUpstreamConfiguration {
        MockUpstreamConfiguration(requestsPerMinute: rpm, tokensPerMinute: tpm,
                                  timeToFirstToken: .nanoseconds(ttft?.nanoseconds ?? 0), tokensPerSecond: speed ?? 0,
                                  profile: profile.profile, seed: seed)
    }
}
