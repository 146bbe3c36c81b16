/// Capacity and refill of one bucket, validated once where they enter.
///
/// ```swift
/// let config = try BucketConfiguration(capacity: 10, refillPerSecond: 2)
/// ```
public struct BucketConfiguration: Hashable, Sendable, CustomStringConvertible {
    /// Most tokens the bucket holds (its burst), in tokens. Fractions allowed down to 1e-9.
    public let capacity: Double
    /// Tokens added per second, continuously.
    public let refill: Rate

    /// Largest capacity accepted, in tokens.
    public static let maximumCapacity: Double = 1e9

    public init(capacity: Double, refill: Rate) throws {
        guard capacity.isFinite else {
            throw BucketError.invalidParameter(name: "capacity", value: capacity, requirement: "a finite number")
        }
        guard capacity > 0 else {
            throw BucketError.invalidParameter(name: "capacity", value: capacity, requirement: "> 0")
        }
        guard capacity <= BucketConfiguration.maximumCapacity else {
            throw BucketError.invalidParameter(name: "capacity", value: capacity, requirement: "at most 1000000000")
        }
        guard TokenUnits.units(capacity) > 0 else {
            throw BucketError.invalidParameter(name: "capacity", value: capacity, requirement: "at least 1e-9")
        }
        self.capacity = capacity
        self.refill = refill
    }

    public init(capacity: Double, refillPerSecond: Double) throws {
        // Check capacity first so the error names the first bad parameter in reading order.
        _ = try BucketConfiguration(capacity: capacity, refill: Rate(numerator: 1, denominator: 1))
        try self.init(capacity: capacity, refill: Rate(perSecond: refillPerSecond))
    }

    public var description: String { "capacity \(BucketError.format(capacity)), refill \(refill.perSecond)/s" }
}

/// Token amounts are held as whole nano-tokens (1e-9 token), so decimal costs such as 0.25 or
/// 1.5 are exact and sums never drift.
///
/// ```swift
/// TokenUnits.units(1.5)              // 1_500_000_000
/// TokenUnits.tokens(250_000_000)     // 0.25
/// ```
public enum TokenUnits {
    public static let perToken: Int64 = 1_000_000_000

    /// `tokens × 10^9` rounded to the nearest integer, halves away from zero (as
    /// `Double.rounded()`), without the C library call `rounded()` compiles to on x86-64.
    @inlinable
    public static func units(_ tokens: Double) -> Int64 {
        let x = tokens * 1e9
        // From 2^52 on every Double is an integer already.
        guard abs(x) < 4_503_599_627_370_496 else { return Int64(x) }
        let whole = Int64(x)                      // toward zero
        let fraction = x - Double(whole)          // exact: the bits below the point
        if fraction >= 0.5 { return whole + 1 }
        if fraction <= -0.5 { return whole - 1 }
        return whole
    }

    @inlinable
    public static func tokens(_ units: Int64) -> Double { Double(units) / 1e9 }

    /// Validates a cost (finite, > 0) and converts it; `capacity` bounds it.
    @inlinable
    public static func cost(_ cost: Double, capacityUnits: Int64, capacity: Double) throws -> Int64 {
        guard cost.isFinite, cost > 0 else {
            throw BucketError.invalidParameter(name: "cost", value: cost, requirement: cost.isNaN || cost.isInfinite ? "a finite number" : "> 0")
        }
        guard cost < TokenUnits.largestCost else {
            // Above any capacity a bucket can have; also keeps the nano-token count in range.
            throw capacity.isFinite ? BucketError.costExceedsCapacity(cost: cost, capacity: capacity)
                : BucketError.invalidParameter(name: "cost", value: cost, requirement: "below 9e9 tokens")
        }
        let u = units(cost)
        guard u > 0 else {
            throw BucketError.invalidParameter(name: "cost", value: cost, requirement: "at least 1e-9")
        }
        guard u <= capacityUnits else {
            throw BucketError.costExceedsCapacity(cost: cost, capacity: capacity)
        }
        return u
    }

    /// Costs from here on are refused: their nano-tokens would not fit an `Int64`.
    public static let largestCost: Double = 9e9

    /// Validates a cost (finite, > 0, at least one nano-token) and converts it; capacities are
    /// checked where the cost is taken.
    @inlinable
    public static func validated(_ cost: Double) throws -> Int64 {
        try self.cost(cost, capacityUnits: .max, capacity: .infinity)
    }

    /// Throws unless `amount` (a refund or charge) is finite and >= 0.
    static func checkAmount(_ amount: Double, name: String) throws {
        guard amount.isFinite, amount >= 0 else {
            throw BucketError.invalidParameter(name: name, value: amount, requirement: "a finite number >= 0")
        }
    }
}
