import TokenBucket

/// When a client sends.
public enum Arrival: Sendable, Equatable {
    /// Evenly spaced, `rate` per second (phase drawn at random per client).
    case steady(rate: Double)
    /// Poisson arrivals, `rate` per second on average.
    case poisson(rate: Double)
    /// Poisson at `rate` during `on`, silent during `off`, repeating (phase drawn per client).
    case onOff(rate: Double, on: Nanoseconds, off: Nanoseconds)
    /// Closed loop: keeps `concurrency` requests outstanding (waiting or at the upstream); the
    /// next is sent `think` after one finishes.
    case closedLoop(concurrency: Int, think: Nanoseconds)
    /// Poisson whose rate goes linearly from `from` to `to` per second over `over`, then holds.
    case ramp(from: Double, to: Double, over: Nanoseconds)
}
