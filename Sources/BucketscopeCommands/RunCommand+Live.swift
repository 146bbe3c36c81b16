import ArgumentParser
import Fleet
import Foundation
import TokenBucket

extension LiveMode: ExpressibleByArgument {}

extension RunRequest {
    /// Runs the scenario live for the duration in real time (`mode`: waiting requests as tasks
    /// on the library's limiters, or the core's paced queues), stops every task, renders the
    /// report. Ctrl-C (SIGINT) or SIGTERM ends the run early: the report then covers the real
    /// time so far, is printed, and the process exits with 128 + the signal (130, 143), as a
    /// shell expects of an interrupted command.
    func executeLive(mode: LiveMode) async throws -> String {
        let (scenario, length) = try scenario(live: true)
        let fleet = try makeLiveFleet(scenario: scenario, seed: options.seed, window: length, mode: mode)
        let stoppedBy = await StopSignals.wait(until: fleet.startedAt.advanced(by: .nanoseconds(length)))
        await fleet.stop()
        return finish(stoppedBy, stoppedBy == nil ? fleet.report(duration: length) : fleet.report(), fleet.snapshot)
    }

    private func finish(_ stoppedBy: Int32?, _ report: FleetReport, _ snapshot: () -> FleetSnapshot) -> String {
        let output = render(report, snapshot: snapshot)
        if let signal = stoppedBy {
            FileHandle.standardOutput.write(Data(output.utf8))
            processExit(128 + signal)
        }
        return output
    }
}
