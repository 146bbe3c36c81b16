import TokenBucket

/// A nonnegative instant or duration in ns as a mixed number `whole + fraction / p`
/// (`0 ≤ fraction < p`): how the Lua scripts hold `BucketState`'s `tat × p` without floats.
struct Mixed: Hashable, Sendable {
    var whole: Int128
    var fraction: Int128

    static let zero = Mixed(whole: 0, fraction: 0)

    /// From the two decimal strings the scripts reply with.
    init(whole: Int128, fraction: Int128) {
        self.whole = whole
        self.fraction = fraction
    }

    init(_ whole: RESPValue?, _ fraction: RESPValue?) throws {
        guard let w = whole?.string.flatMap({ Int128($0) }), let f = fraction?.string.flatMap({ Int128($0) }) else {
            throw RedisError.unexpectedReply("a number pair, got \(String(describing: whole)) \(String(describing: fraction))")
        }
        self.whole = w
        self.fraction = f
    }

    var arguments: [String] { [String(whole), String(fraction)] }
}

/// One limit's configuration in the scripts' terms: refill `p/q`, capacity in nano-tokens,
/// and the burst `capacity × q / p` ns as a mixed number, all computed exactly here so the
/// scripts only add and compare.
struct ScaledLimit: Hashable, Sendable {
    let p: Int64
    let q: Int64
    let capacityUnits: Int64
    let burst: Mixed

    init(_ configuration: BucketConfiguration) {
        p = configuration.refill.numerator
        q = configuration.refill.denominator
        capacityUnits = TokenUnits.units(configuration.capacity)
        burst = ScaledLimit.mixed(units: Int128(capacityUnits), p: p, q: q)
    }

    /// `units × q / p` ns: how long `units` nano-tokens take to refill.
    func scaled(units: Int64) -> Mixed { ScaledLimit.mixed(units: Int128(units), p: p, q: q) }

    /// Nano-tokens in a scaled amount (`(whole × p + fraction) / q`, rounded down).
    func units(of m: Mixed) -> Int64 {
        Int64(clamping: (m.whole * Int128(p) + m.fraction) / Int128(q))
    }

    /// The arguments every script takes per key: p, q, capacity, burst.
    var arguments: [String] { [String(p), String(q), String(capacityUnits)] + burst.arguments }

    private static func mixed(units: Int128, p: Int64, q: Int64) -> Mixed {
        let (w, f) = (units * Int128(q)).quotientAndRemainder(dividingBy: Int128(p))
        return Mixed(whole: w, fraction: f)
    }
}
