/// Every way a bucket operation can fail, each with a message a user can act on.
///
/// ```swift
/// do { try await bucket.acquire(cost, timeout: .seconds(2)) }
/// catch let error as BucketError { log(error.description) }   // "cost 12 exceeds capacity 10: ..."
/// ```
///
/// Parameters are checked where they enter (configuration, cost), so a bad value is reported
/// once, by name, instead of hanging a waiter or corrupting the arithmetic later.
public enum BucketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter is NaN, infinite, out of range or otherwise unusable.
    case invalidParameter(name: String, value: Double, requirement: String)
    /// A cost larger than the capacity can never be admitted: a full bucket does not hold it.
    case costExceedsCapacity(cost: Double, capacity: Double)
    /// The wait would end after the caller's deadline; nothing was consumed.
    case deadlineExceeded(wouldAdmitAfter: Duration, allowed: Duration)
    /// The waiting task was cancelled; its reservation was given back.
    case cancelled

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "\(name) must be \(requirement), got \(BucketError.format(value))"
        case let .costExceedsCapacity(cost, capacity):
            return "cost \(BucketError.format(cost)) exceeds capacity \(BucketError.format(capacity)): it could never be admitted"
        case let .deadlineExceeded(wait, allowed):
            return "admission would take \(wait), more than the \(allowed) allowed"
        case .cancelled:
            return "the waiting task was cancelled"
        }
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-infinity" : "infinity" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
