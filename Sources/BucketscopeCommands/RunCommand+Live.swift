import Fleet
import Foundation
import TokenBucket

extension RunRequest {
    /// Runs the scenario live for the duration in real time, stops every task, renders the
    /// report. Ctrl-C (SIGINT) or SIGTERM ends the run early: the report then covers the real
    /// time so far, is printed, and the process exits with 128 + the signal (130, 143), as a
    /// shell expects of an interrupted command.
    func executeLive() async throws -> String {
        let (scenario, length) = try scenario(live: true)
        let fleet = try LiveFleet(scenario: scenario, seed: options.seed, window: length)
        let stoppedBy = await StopSignals.wait(until: fleet.startedAt.advanced(by: .nanoseconds(length)))
        await fleet.stop()
        let output = render(stoppedBy == nil ? fleet.report(duration: length) : fleet.report(), snapshot: fleet.snapshot)
        if let signal = stoppedBy {
            FileHandle.standardOutput.write(Data(output.utf8))
            processExit(128 + signal)
        }
        return output
    }
}
