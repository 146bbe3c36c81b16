/// Every way a bucket operation can fail, each with a message a user can act on, and told
/// apart by what a server should answer:
///
/// | case | meaning | a gateway answers |
/// |---|---|---|
/// | ``deadlineExceeded(wouldAdmitAfter:allowed:)`` | a real limit: admission would come too late; nothing taken | 429 with `Retry-After` = ``retryAfter`` |
/// | ``costExceedsCapacity(cost:capacity:)`` | never admissible: no wait helps | 413 or 400 (``isLimit`` is false) |
/// | ``invalidParameter(name:value:requirement:)`` | a caller bug (NaN cost, negative timeout...) | 500 / fix the code |
///
/// A task cancelled while waiting throws `CancellationError`, not a `BucketError`.
///
/// ```swift
/// do { try await bucket.acquire(cost, timeout: .seconds(2)) }
/// catch let error as BucketError where error.isLimit {
///     return .tooManyRequests(retryAfter: error.retryAfter)
/// }
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

    /// Whether this is a rate limit being hit (the request would be admitted later), as
    /// opposed to a request that can never be admitted or a caller bug.
    public var isLimit: Bool {
        if case .deadlineExceeded = self { return true }
        return false
    }

    /// For a limit hit: how long from the failed call until the request would have been
    /// admitted (what an HTTP `Retry-After` should say, rounded up to whole seconds there).
    /// `nil` for the other cases, where waiting does not help.
    public var retryAfter: Duration? {
        if case let .deadlineExceeded(wait, _) = self { return wait }
        return nil
    }

    /// ``retryAfter`` in whole seconds, rounded up (at least 1), as an HTTP `Retry-After`
    /// header takes it; `nil` when waiting does not help.
    public var retryAfterSeconds: Int? {
        guard let d = retryAfter else { return nil }
        let (s, a) = d.components
        return Swift.max(1, Int(s) + (a > 0 ? 1 : 0))
    }

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "\(name) must be \(requirement), got \(BucketError.format(value))"
        case let .costExceedsCapacity(cost, capacity):
            return "cost \(BucketError.format(cost)) exceeds capacity \(BucketError.format(capacity)): it could never be admitted"
        case let .deadlineExceeded(wait, allowed):
            return "admission would take \(wait), more than the \(allowed) allowed"
        }
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-infinity" : "infinity" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
