import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waiting for a deadline or a stop signal (SIGINT from Ctrl-C, SIGTERM), whichever comes
/// first, so a long-running command can finish its work (print the report so far) instead of
/// being killed mid-way.
///
/// While ``wait(until:)`` runs, the two signals are ignored by the process and delivered to it
/// through dispatch sources instead; afterwards their default actions are back.
///
/// ```swift
/// if let signal = await StopSignals.wait(until: .now + .seconds(3600)) {
///     print(report); processExit(128 + signal)   // 130 for SIGINT, 143 for SIGTERM
/// }
/// ```
enum StopSignals {
    static let handled: [Int32] = [SIGINT, SIGTERM]

    /// Sleeps until `deadline` on the continuous clock; returns early with the signal number if
    /// SIGINT or SIGTERM arrives first, nil at the deadline.
    static func wait(until deadline: ContinuousClock.Instant) async -> Int32? {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "bucketscope.stop-signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in handled {
            signal(sig, SIG_IGN)   // the dispatch source sees it; the default action must not kill us
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            for sig in handled { signal(sig, SIG_DFL) }
            continuation.finish()
        }
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            group.addTask {
                for await sig in stream { return sig }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            continuation.finish()
            return first
        }
    }
}
