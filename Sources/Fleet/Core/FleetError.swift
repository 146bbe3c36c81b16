import TokenBucket

/// A fleet that cannot be built or steered as asked; the message names the bad value.
public enum FleetError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    /// The virtual driver ran `events` events and stopped at `at` (simulated ns), short of the
    /// run's end: the scenario asks for more work than one run may take.
    case eventBudgetExceeded(events: Int, at: Nanoseconds)

    public var description: String {
        switch self {
        case .invalid(let m): return m
        case let .eventBudgetExceeded(events, at):
            return "the run stopped after its budget of \(grouped(events)) events at \(fmt(Double(at) / 1e9)) s simulated: "
                + "lower the duration, the number of clients or their rates"
        }
    }
}
