import Fleet
import Foundation
import Gateway
import Testing
import TokenBucket
@testable import BucketscopeCommands

/// `serve`'s flags over its configuration file, as `ServeCommand.resolve()` combines them.
@Suite struct ServeOptionTests {
    /// `serve ARGS` resolved, with `toml` (if any) as its `--config` file.
    func resolved(_ args: [String], config toml: String? = nil) throws -> GatewayConfig {
        var path: String?
        if let toml {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("serve-options-\(UUID().uuidString).toml")
            try toml.write(to: url, atomically: true, encoding: .utf8)
            path = url.path
        }
        defer { if let path { try? FileManager.default.removeItem(atPath: path) } }
        let command = try #require(try BucketscopeCommand.parseAsRoot(["serve", "--mock"] + (path.map { ["--config", $0] } ?? []) + args) as? ServeCommand)
        return try command.resolve()
    }

    static let second: Nanoseconds = 1_000_000_000

    @Test func tuningIsOffByDefault() throws {
        #expect(try resolved([]).tuning == nil)
    }

    @Test func tuningFlagSwitchesTheRuleOnWithItsDocumentedDefaults() throws {
        let spec = try #require(try resolved(["--tuning"]).tuning)
        #expect(spec == TuningSpec(window: 10 * Self.second, threshold: 0.01, cut: 0.2, raise: 0.05))
    }

    @Test func tuningFlagKeepsTheConfigsValues() throws {
        let toml = "[tuning]\nwindow = \"2s\"\ncut = 0.5\n"
        #expect(try resolved(["--tuning"], config: toml).tuning == TuningSpec(window: 2 * Self.second, cut: 0.5))
        #expect(try resolved([], config: toml).tuning == TuningSpec(window: 2 * Self.second, cut: 0.5))
    }

    @Test func tuningFlagSwitchesOnASectionThatSaysEnabledFalseWithItsValues() throws {
        let toml = "[tuning]\nenabled = false\nwindow = \"3s\"\nraise = 0\n"
        #expect(try resolved([], config: toml).tuning == nil)
        #expect(try resolved(["--tuning"], config: toml).tuning == TuningSpec(window: 3 * Self.second, raise: nil))
    }

    @Test func noTuningFlagSwitchesOffTheConfigsRule() throws {
        #expect(try resolved(["--no-tuning"], config: "[tuning]\ncut = 0.5\n").tuning == nil)
        #expect(try resolved(["--no-tuning"]).tuning == nil)
    }

    @Test func tuningAndNoTuningTogetherAreOneLineExitTwo() {
        let args = ["serve", "--mock", "--tuning", "--no-tuning"]
        #expect(throws: (any Error).self) { try BucketscopeCommand.parseAsRoot(args) }
        do {
            _ = try BucketscopeCommand.parseAsRoot(args)
        } catch {
            #expect(BucketscopeCommand.exitCode(for: error) == .validationFailure)
            #expect(BucketscopeCommand.parserMessage(error, arguments: args)
                    == "--tuning and --no-tuning: give one (--tuning switches the tuning rule on, --no-tuning off)")
        }
    }

    @Test func tuningTakesNoValue() throws {
        let args = ["serve", "--mock", "--tuning=yes"]
        do {
            _ = try BucketscopeCommand.parseAsRoot(args)
            Issue.record("--tuning=yes parsed")
        } catch {
            #expect(BucketscopeCommand.exitCode(for: error) == .validationFailure)
            #expect(BucketscopeCommand.parserMessage(error, arguments: args).contains("'--tuning' does not take any value"))
        }
    }

    /// The other overriding flags still override (the tuning flags sit among them).
    @Test func sizingFlagsOverrideTheConfig() throws {
        let c = try resolved(["--capacity", "7", "--refill", "0.5", "--keying", "hierarchical", "--max-wait", "1500ms"],
                             config: "keying = \"per-tenant\"\n[limits]\ncapacity = 3\nrefill = 9\n")
        #expect(c.limits.capacity == 7)
        #expect(c.limits.refill == 0.5)
        #expect(c.keying == .hierarchical)
        #expect(c.maxWait == .milliseconds(1500))
    }
}
