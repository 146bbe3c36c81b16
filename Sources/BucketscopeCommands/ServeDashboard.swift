import CTerminalSignals
import Dashboard
import Fleet
import Foundation
import Gateway
import TerminalUI

/// `serve` on a terminal: the dashboard over the gateway's real traffic, on a thread of its own
/// (as `DashboardCommand` runs it), while the gateway serves on the cooperative pool. Quitting
/// the dashboard (or a stop signal) shuts the gateway down gracefully.
enum ServeDashboard {
    static func run(server: GatewayServer, theme: String) async throws {
        let loaded: ThemeParser.Result
        do { loaded = try ThemeCatalog.load(theme) } catch { throw CommandFailure("--theme: \(error)") }
        let serving = Task { try await server.run() }
        let port: Int
        do {
            port = try await server.boundPort()
        } catch {
            // Binding failed: run() says why.
            do { try await serving.value } catch { throw CommandFailure("serve: \(error)") }
            return
        }
        let chosen = loaded.theme
        let outcome: Result<Int32?, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { try runDashboard(server: server, port: port, theme: chosen) })
            }
            thread.name = "bucketscope-ui"
            thread.stackSize = 8 << 20
            thread.start()
        }
        await server.shutdown()
        _ = try? await serving.value
        _ = try outcome.get()   // a signal ended it: the gateway has drained, exit 0
    }

    private static func runDashboard(server: GatewayServer, port: Int, theme: Theme) throws -> Int32? {
        var themes: [String: Theme] = [:]
        for t in ThemeCatalog.builtIn { themes[t.name] = t }
        var names = ThemeCatalog.names
        if themes[theme.name] != theme {
            themes[theme.name] = theme
            if !names.contains(theme.name) { names.insert(theme.name, at: 0) }
        }
        let state = DashboardState(mode: .live, speed: 1, themeNames: names, theme: theme.name,
                                   presetNames: DashboardFleet.presetNames)
        let terminal = try CursesTerminal.start(environment: ProcessInfo.processInfo.environment)
        defer { terminal.restore() }
        // A restart makes a new driver (a fresh ledger: counts start again) over the same gateway.
        let runner = try DashboardRunner(state: state, themes: themes, framesPerSecond: 10, backend: terminal) {
            GatewayFleetDriver<ContinuousClock>(server: server, port: port)
        }
        return runner.run()
    }
}
