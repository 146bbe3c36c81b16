@testable import Dashboard
import Fleet
import Testing

/// A terminal whose input is a script: `.wait` lets the timeout pass on the fake clock.
final class ScriptedTerminal: TerminalBackend {
    enum Step { case wait, input(TerminalInput) }
    var script: [Step]
    let clock: FakeClock
    var size: (width: Int, height: Int) = (80, 24)
    let colorDepth: ColorDepth = .none
    let glyphs: Glyphs = .unicode
    var frames: [Grid] = []
    var stopSignal: Int32?

    init(_ script: [Step], clock: FakeClock) { self.script = script; self.clock = clock }

    func nextInput(timeoutMilliseconds: Int) -> TerminalInput? {
        guard !script.isEmpty else { return .key(.char("q")) }
        switch script.removeFirst() {
        case .wait: clock.time += Int64(timeoutMilliseconds) * 1_000_000; return nil
        case let .input(i): return i
        }
    }
    func draw(_ grid: Grid) { frames.append(grid) }
}

final class FakeClock: FrameClock {
    var time: Int64 = 0
    func now() -> Int64 { time }
}

/// Records what the loop asks of the fleet.
final class RecordingFleet: FleetDriver {
    let inner = PreviewFleet()
    var advanced: Int64 = 0
    var commands: [FleetCommand] = []
    var paused: [Bool] = []
    var rejection: Rejected?
    struct Rejected: Error, CustomStringConvertible { var description: String }
    var mode: FleetMode { .simulated }
    var scenarioName: String { inner.scenarioName }
    func advance(by dt: Int64) { advanced += dt; inner.advance(by: dt) }
    func snapshot() -> FleetSnapshot { inner.snapshot() }
    func apply(_ command: FleetCommand) throws {
        if let rejection { throw rejection }
        commands.append(command); try inner.apply(command)
    }
    func setPaused(_ paused: Bool) { self.paused.append(paused) }
    func shutdown() {}
}

@Suite struct RunnerTests {
    func run(_ script: [ScriptedTerminal.Step], speed: Double = 1, fps: Int = 20) throws -> (ScriptedTerminal, RecordingFleet, DashboardRunner) {
        let clock = FakeClock()
        let terminal = ScriptedTerminal(script, clock: clock)
        let fleet = RecordingFleet()
        let runner = try DashboardRunner(state: DashboardState(speed: speed), themes: [:], framesPerSecond: fps,
                                         backend: terminal, clock: clock) { fleet }
        runner.run()
        return (terminal, fleet, runner)
    }

    @Test func simulationAdvancesByElapsedTimeTimesSpeed() throws {
        let (_, fleet, _) = try run(Array(repeating: .wait, count: 4) + [.input(.key(.char("q")))], speed: 10)
        #expect(fleet.advanced == 4 * 50_000_000 * 10) // four 50 ms frames at ×10 = 2 simulated seconds
    }

    @Test func frameRateDoesNotChangeSimulatedTime() throws {
        let (_, slow, _) = try run(Array(repeating: .wait, count: 2) + [.input(.key(.char("q")))], fps: 5)   // 2 × 200 ms
        let (_, fast, _) = try run(Array(repeating: .wait, count: 8) + [.input(.key(.char("q")))], fps: 20)  // 8 × 50 ms
        #expect(slow.advanced == 400_000_000)
        #expect(fast.advanced == 400_000_000)
    }

    @Test func pausedDrawsNothingUntilAKeyAndDoesNotAdvance() throws {
        let (terminal, fleet, runner) = try run([.input(.key(.char(" ")))] + Array(repeating: .wait, count: 10) + [.input(.key(.char("q")))])
        #expect(fleet.advanced == 0)
        #expect(runner.framesDrawn == 2) // the first frame, and the one showing "paused"
        #expect(terminal.frames.last?.lines[0].contains("paused") == true)
        #expect(fleet.paused == [true])
    }

    @Test func stepAdvancesOneSampleWhilePaused() throws {
        let (_, fleet, _) = try run([.input(.key(.char(" "))), .input(.key(.char("."))), .input(.key(.char("q")))])
        #expect(fleet.advanced == PreviewFleet.sampleInterval)
    }

    @Test func keysReachTheDriverAndShowWithinAFrame() throws {
        let (terminal, fleet, _) = try run([.input(.key(.char("+"))), .input(.key(.char("q")))])
        #expect(fleet.commands == [.setCapacity(25, key: "user-n1")])
        // The key's own row, in its tokens column ("<tokens>/25"), not a "25" anywhere on screen.
        let row = try #require(terminal.frames.last?.lines.first { $0.contains(" user-n1 ") })
        let cells = row.split(separator: " ")
        #expect(cells.contains { $0.hasSuffix("/25") }, "\(row)")
        #expect(terminal.frames.last?.lines.contains { $0.contains("capacity user-n1: 20 → 25 tokens") } == true)
    }

    @Test func aValueTheDriverRejectsIsShownAsAnError() throws {
        let clock = FakeClock()
        let terminal = ScriptedTerminal([.input(.key(.char("+"))), .input(.key(.char("q")))], clock: clock)
        let fleet = RecordingFleet()
        fleet.rejection = .init(description: "capacity must be <= 1000, got 1250")
        let runner = try DashboardRunner(state: DashboardState(), themes: [:], framesPerSecond: 20, backend: terminal, clock: clock) { fleet }
        runner.run()
        #expect(terminal.frames.last?.lines[22].contains("capacity must be <= 1000") == true)
    }

    @Test func statusMessagesExpireAfterFiveSeconds() throws {
        // ">" shows "speed ×2"; paused waits are 250 ms each: 19 waits = 4.75 s, 21 = 5.25 s.
        let (early, _, _) = try run([.input(.key(.char(" "))), .input(.key(.char(">")))] + Array(repeating: .wait, count: 19)
                                    + [.input(.resize)]) // a redraw that changes nothing
        #expect(early.frames.last?.lines[22].contains("speed ×2") == true)
        let (late, _, _) = try run([.input(.key(.char(" "))), .input(.key(.char(">")))] + Array(repeating: .wait, count: 21)
                                        + [.input(.key(.char("q")))])
        #expect(late.frames.last?.lines[22].trimmingCharacters(in: .whitespaces) == "")
    }

    @Test func resizeRedrawsAtTheNewSizeAndSmallTerminalsGetTheGate() throws {
        let clock = FakeClock()
        let terminal = ScriptedTerminal([], clock: clock)
        terminal.script = [.input(.resize)]
        let fleet = RecordingFleet()
        let runner = try DashboardRunner(state: DashboardState(), themes: [:], framesPerSecond: 20, backend: terminal, clock: clock) { fleet }
        terminal.size = (40, 10)
        runner.run()
        #expect(terminal.frames.last?.width == 40)
        #expect(terminal.frames.last?.lines.joined().contains("terminal too small") == true)
    }

    @Test func aStopSignalEndsTheLoop() throws {
        let clock = FakeClock()
        let terminal = ScriptedTerminal(Array(repeating: .wait, count: 100), clock: clock)
        terminal.stopSignal = 15
        let runner = try DashboardRunner(state: DashboardState(), themes: [:], framesPerSecond: 20, backend: terminal, clock: clock) { PreviewFleet() }
        #expect(runner.run() == 15)
    }
}
