import Fleet
import Foundation
import TokenBucket

/// What the run loop reads from the terminal.
public enum TerminalInput: Sendable, Equatable {
    case key(Key)
    /// The terminal changed size; `TerminalBackend.size` is already the new size.
    case resize
    case mouse(MouseEvent)
}

/// The terminal as the run loop needs it. `TerminalUI.CursesTerminal` is the real one; tests use
/// a scripted one, so the loop runs without a terminal.
public protocol TerminalBackend: AnyObject {
    var size: (width: Int, height: Int) { get }
    var colorDepth: ColorDepth { get }
    var glyphs: Glyphs { get }
    /// Waits at most `timeoutMilliseconds` for input; nil when none came (or a signal interrupted).
    func nextInput(timeoutMilliseconds: Int) -> TerminalInput?
    /// Shows `grid`, writing only what changed since the last frame.
    func draw(_ grid: Grid)
    /// A stop signal (SIGTERM, SIGHUP, SIGINT) arrived; the loop ends and the caller restores.
    var stopSignal: Int32? { get }
    /// The theme's background for everything the terminal itself clears (curses' window
    /// background), so no cell keeps the terminal's own colour. Called at start and on `t`.
    func paintBackground(_ style: Style)
}

extension TerminalBackend {
    public func paintBackground(_ style: Style) {}
}

/// A monotonic clock in nanoseconds, injectable so the loop's timing is testable.
public protocol FrameClock {
    func now() -> Int64
}

public struct SystemFrameClock: FrameClock {
    private let start = ContinuousClock.now
    public init() {}
    public func now() -> Int64 {
        let d = ContinuousClock.now - start
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }
}

/// The frame loop: key → `update` → effects on the driver → advance by dt × speed → snapshot →
/// `DashboardView.render` → backend diff.
///
/// Simulated time advances by the real time elapsed since the last advance times the speed, so
/// a slow frame does not slow the simulation, and the frame rate does not change its results.
/// Paused, the loop waits for keys with a 250 ms timeout and draws nothing unless a key came.
public final class DashboardRunner {
    public typealias DriverFactory = () throws -> any FleetDriver

    private let makeDriver: DriverFactory
    private let backend: any TerminalBackend
    private let clock: any FrameClock
    private let themes: [String: Theme]
    private let frameNanoseconds: Int64
    public private(set) var state: DashboardState
    private var driver: any FleetDriver
    private var context: ViewContext
    /// Frames drawn, for tests and the idle-CPU check.
    public private(set) var framesDrawn = 0
    /// Where `S` saves the screen (the working directory unless a test says otherwise).
    public var saveDirectory: String = FileManager.default.currentDirectoryPath
    /// The last snapshot drawn, so `S` saves exactly what is on screen.
    private var shown: FleetSnapshot?

    /// How long a status message stays (real time): notes 5 s, errors 10 s.
    static let messageNanoseconds: Int64 = 5_000_000_000
    static let errorNanoseconds: Int64 = 10_000_000_000

    /// Longest real time one frame may advance the simulation (after a stall, e.g. a suspended
    /// process), so the fleet does not leap minutes ahead.
    static let maximumFrameGap: Int64 = 250_000_000

    public init(state: DashboardState, themes: [String: Theme], framesPerSecond: Int, backend: any TerminalBackend,
                clock: any FrameClock = SystemFrameClock(), makeDriver: @escaping DriverFactory) throws {
        self.state = state
        self.themes = themes
        self.backend = backend
        self.clock = clock
        self.makeDriver = makeDriver
        self.frameNanoseconds = 1_000_000_000 / Int64(max(1, framesPerSecond))
        self.driver = try makeDriver()
        let theme = themes[state.themeName] ?? ThemeCatalog.fallback
        self.context = ViewContext(palette: Palette(theme: theme, depth: backend.colorDepth), glyphs: backend.glyphs)
    }

    /// Runs until `q`, Ctrl-C or a stop signal. Returns the signal number when a signal ended it.
    @discardableResult
    public func run() -> Int32? {
        var snapshot = driver.snapshot()
        var lastAdvance = clock.now()
        var nextFrame = lastAdvance + frameNanoseconds
        var dirty = true
        // A new snapshot is needed (time advanced, or a command changed the fleet). A key that
        // only changes the view is drawn at once on the snapshot on screen: the answer to a key
        // press does not wait for the simulation to advance or a 10,000-key snapshot to be taken.
        var stale = true
        var shownMessage: StatusMessage?
        var shownAt: Int64 = 0
        var laidOut: (Int, Int, Int) = (-1, -1, -1)
        var rowsShown = (state.tree, state.filter, state.expanded)
        state.glyphs = backend.glyphs
        backend.paintBackground(context.palette.base)
        while !state.quit {
            if let signal = backend.stopSignal { driver.shutdown(); return signal }
            if dirty {
                if stale {
                    snapshot = driver.snapshot(); stale = false
                    if state.compare != nil { state.compare!.observe(snapshot, budgetFrom: state.selected(snapshot)) }
                }
                let size = backend.size
                // Only a new size, key count or set of rows (which size the table) needs a layout pass.
                if laidOut != (size.width, size.height, snapshot.keys.count) {
                    laidOut = (size.width, size.height, snapshot.keys.count)
                    state = DashboardUpdate.update(state, .screen(width: size.width, height: size.height), snapshot: snapshot).0
                }
                backend.draw(DashboardView.render(state, snapshot, width: size.width, height: size.height, context: context))
                shown = snapshot
                framesDrawn += 1
                dirty = false
            }
            let now = clock.now()
            // Paused, the simulator stands still: wait for keys only. Live mode keeps drawing,
            // because requests already sent still finish while arrivals are paused.
            let idle = state.paused && state.mode == .simulated
            let timeout = idle ? 250 : Int(max(0, nextFrame - now) / 1_000_000)
            if let input = backend.nextInput(timeoutMilliseconds: timeout) {
                dirty = true
                let event: Event? = switch input {
                case let .key(key): .key(key)
                case let .mouse(mouse): .mouse(mouse)
                case .resize: nil
                }
                if let event {
                    let (next, effects) = DashboardUpdate.update(state, event, snapshot: snapshot)
                    state = next
                    for effect in effects { perform(effect, snapshot: snapshot) }
                    if !effects.isEmpty { stale = true }
                    // Folding, filtering or the tree switch change how many rows the table wants.
                    if (state.tree, state.filter, state.expanded) != rowsShown {
                        rowsShown = (state.tree, state.filter, state.expanded)
                        laidOut = (-1, -1, -1)
                    }
                    if !state.quit { continue } // draw the answer now; the frame's advance comes next
                } else {
                    stale = true // resized
                }
            }
            let after = clock.now()
            if state.message != shownMessage {
                shownMessage = state.message
                shownAt = after
            } else if let message = shownMessage,
                      after - shownAt >= (message.isError ? DashboardRunner.errorNanoseconds : DashboardRunner.messageNanoseconds) {
                state = DashboardUpdate.update(state, .messageExpired, snapshot: snapshot).0
                shownMessage = nil
                dirty = true
            }
            if idle {
                lastAdvance = after // resuming must not replay the paused time
            } else if after >= nextFrame {
                let gap = min(after - lastAdvance, DashboardRunner.maximumFrameGap)
                let dt = Nanoseconds((Double(gap) * state.speed).rounded())
                if dt > 0, !state.paused { driver.advance(by: dt) }
                lastAdvance = after
                nextFrame = after + frameNanoseconds
                dirty = true
                stale = true
            }
        }
        driver.shutdown()
        return nil
    }

    private func perform(_ effect: Effect, snapshot: FleetSnapshot) {
        switch effect {
        case let .command(command):
            do { try driver.apply(command) } catch { fail(error) }
        case let .setPaused(paused):
            driver.setPaused(paused)
        case .step:
            driver.advance(by: max(1, snapshot.sampleInterval))
        case .restart:
            driver.shutdown()
            do {
                driver = try makeDriver()
                driver.setPaused(state.paused)
            } catch {
                fail(error)
            }
        case let .setTheme(name):
            let theme = themes[name] ?? ThemeCatalog.fallback
            context.palette = Palette(theme: theme, depth: backend.colorDepth)
            backend.paintBackground(context.palette.base)
        case .saveScreen:
            save(shown ?? snapshot)
        case .quit:
            break
        }
    }

    /// Writes the screen as `bucketscope-N.svg` and `.txt` (N: the first number not taken), in
    /// full colour whatever the terminal's depth, and says where.
    private func save(_ snapshot: FleetSnapshot) {
        let size = backend.size
        var frameState = state
        frameState.message = nil
        let theme = themes[state.themeName] ?? ThemeCatalog.fallback
        let grid = DashboardView.render(frameState, snapshot, width: size.width, height: size.height,
                                        context: ViewContext(palette: Palette(theme: theme, depth: .truecolor), glyphs: context.glyphs))
        let files = FileManager.default
        var n = 1
        while files.fileExists(atPath: "\(saveDirectory)/bucketscope-\(n).svg") || files.fileExists(atPath: "\(saveDirectory)/bucketscope-\(n).txt") { n += 1 }
        let base = "\(saveDirectory)/bucketscope-\(n)"
        do {
            try ScreenSVG.render(grid, title: "bucketscope \(snapshot.scenario) \(Format.clock(nanoseconds: snapshot.now))")
                .write(toFile: base + ".svg", atomically: true, encoding: .utf8)
            try ScreenSVG.text(grid).write(toFile: base + ".txt", atomically: true, encoding: .utf8)
            state = DashboardUpdate.update(state, .note("saved \(base).svg and .txt"), snapshot: snapshot).0
        } catch {
            fail("cannot save the screen in \(saveDirectory): \(error.localizedDescription)")
        }
    }

    private func fail(_ error: any Error) { fail(String(describing: error)) }

    private func fail(_ text: String) {
        state = DashboardUpdate.update(state, .failed(text), snapshot: driver.snapshot()).0
    }
}
