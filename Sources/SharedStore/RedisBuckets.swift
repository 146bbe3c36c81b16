import TokenBucket

/// Token buckets held in Redis and shared by every process that uses the same keys: the exact
/// GCRA of ``TokenBucket/BucketState``, run by the Lua scripts in ``GCRAScripts`` (one
/// `EVALSHA` per operation, whatever the number of limits).
///
/// ```swift
/// let buckets = RedisBuckets(client: client)
/// let rpm = try BucketConfiguration(capacity: 60, refillPerSecond: 1)
/// switch try await buckets.acquire([SharedLimit(key: "u:42:rpm", configuration: rpm, cost: 1)], maxWait: 0) {
/// case .admitted(let r): print("go", r.admitAt)
/// case .wouldWait(let at, let now): print("retry in", at - now, "ns")
/// case .never(let limit): print("never fits", limit.key)
/// }
/// ```
///
/// Every method takes an optional `at`: `nil` uses the server's `TIME` (production, one clock
/// for every replica); a value in ns replaces it (tests replaying traces; keys then do not
/// expire).
public struct RedisBuckets: Sendable {
    public let client: RedisClient
    /// Prepended to every key, so several tenants of one Redis stay apart.
    public let prefix: String
    /// Per-call timeout for the scripts (default: the client's).
    public let timeout: Duration?

    static let acquireScript = RedisScript(GCRAScripts.acquire)
    static let reconcileScript = RedisScript(GCRAScripts.reconcile)
    static let cancelScript = RedisScript(GCRAScripts.cancel)
    static let peekScript = RedisScript(GCRAScripts.peek)

    public init(client: RedisClient, prefix: String = "bucketscope:", timeout: Duration? = nil) {
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
    }

    /// Reserves `limits` together, all or nothing, at the first instant every one admits its
    /// cost (as ``TokenBucket/LLMLimiterState/reserve(_:at:)``), unless that is more than
    /// `maxWait` ns away (`nil`: any wait). FIFO across replicas: the reservation is made now
    /// and later requests queue behind it; the caller sleeps until `admitAt`.
    /// - Throws: ``SharedStoreError/invalidCost(_:)`` for a cost that is not finite and > 0;
    ///   ``RedisError`` when the store does not answer.
    public func acquire(_ limits: [SharedLimit], maxWait: Nanoseconds?, at now: Nanoseconds? = nil) async throws -> SharedAdmission {
        try await acquireReporting(limits, maxWait: maxWait, at: now).admission
    }

    /// ``acquire(_:maxWait:at:)`` with what the store saw: every bucket's level after the
    /// decision, and which limit admits last. Same single `EVALSHA`.
    public func acquireReporting(_ limits: [SharedLimit], maxWait: Nanoseconds?, at now: Nanoseconds? = nil) async throws -> SharedAdmissionReport {
        guard !limits.isEmpty else { throw SharedStoreError.noLimits }
        var arguments = [now.map(String.init) ?? "", maxWait.map { String(Swift.max(0, $0)) } ?? "-1"]
        var units: [Int64] = []
        for limit in limits {
            let scaled = ScaledLimit(limit.configuration)
            let u = try Self.units(limit)
            units.append(u)
            arguments += scaled.arguments + scaled.scaled(units: u).arguments
        }
        let reply = try await Self.acquireScript.run(on: client, keys: limits.map { prefix + $0.key },
                                                     arguments: arguments, timeout: timeout)
        guard let r = reply.array, r.count >= 3, let status = r[0].string,
              let at = r[1].string.flatMap({ Nanoseconds($0) }) else {
            throw RedisError.unexpectedReply("acquire: \(reply)")
        }
        /// Tokens left in limit k's bucket from the deficit the script returned.
        func level(_ k: Int, _ w: RESPValue, _ f: RESPValue) throws -> Double {
            let scaled = ScaledLimit(limits[k].configuration)
            return TokenUnits.tokens(scaled.capacityUnits) - TokenUnits.tokens(scaled.units(of: try Mixed(w, f)))
        }
        switch status {
        case "never":
            guard let k = r[2].integer, k >= 1, Int(k) <= limits.count else { throw RedisError.unexpectedReply("acquire: \(reply)") }
            return SharedAdmissionReport(admission: .never(limits[Int(k) - 1]), levels: nil, binding: Int(k) - 1)
        case "wait":
            guard r.count == 4 + 2 * limits.count, let admit = r[2].string.flatMap({ Nanoseconds($0) }),
                  let k = r[3].string.flatMap({ Int($0) }), k >= 1, k <= limits.count else {
                throw RedisError.unexpectedReply("acquire: \(reply)")
            }
            let levels = try limits.indices.map { try level($0, r[4 + 2 * $0], r[5 + 2 * $0]) }
            return SharedAdmissionReport(admission: .wouldWait(admitAt: admit, now: at), levels: levels, binding: k - 1)
        case "ok":
            guard r.count == 3 + 9 * limits.count, let admit = r[2].string.flatMap({ Nanoseconds($0) }) else {
                throw RedisError.unexpectedReply("acquire: \(reply)")
            }
            var parts: [SharedReservation.Part] = []
            var levels: [Double] = []
            for (k, limit) in limits.enumerated() {
                let f = Array(r[(3 + 9 * k)..<(3 + 9 * k + 9)])
                parts.append(.init(limit: limit, ttlMilliseconds: f[6].integer ?? 0, costUnits: units[k],
                                   reservedThrough: try Mixed(f[0], f[1]), floorBefore: f[2].string ?? "",
                                   gap: (f[3].string ?? "full", f[4].string ?? "0"), epoch: f[5].string ?? "0"))
                levels.append(try level(k, f[7], f[8]))
            }
            return SharedAdmissionReport(admission: .admitted(SharedReservation(requestedAt: at, admitAt: admit, parts: parts)),
                                         levels: levels, binding: nil)
        default:
            throw RedisError.unexpectedReply("acquire: \(reply)")
        }
    }

    /// Settles what a request really cost: per limit, `actual − estimate` tokens are charged
    /// (positive, even into debt) or refunded (negative, never above full and never moving the
    /// bucket's state before now), as ``TokenBucket/BucketState/refund(_:at:)`` and
    /// ``TokenBucket/BucketState/charge(_:at:)``. Limits with a zero delta are skipped.
    public func reconcile(_ deltas: [(limit: SharedLimit, tokens: Double)], at now: Nanoseconds? = nil) async throws {
        var keys: [String] = []
        var arguments = [now.map(String.init) ?? ""]
        for (limit, tokens) in deltas {
            guard tokens.isFinite else { throw SharedStoreError.invalidCost(tokens) }
            let u = TokenUnits.units(Swift.abs(tokens))
            guard u > 0 else { continue }
            let scaled = ScaledLimit(limit.configuration)
            keys.append(prefix + limit.key)
            arguments += scaled.arguments + [tokens > 0 ? "+" : "-"] + scaled.scaled(units: u).arguments
        }
        guard !keys.isEmpty else { return }
        let reply = try await Self.reconcileScript.run(on: client, keys: keys, arguments: arguments, timeout: timeout)
        guard reply.array?.count == 1 + keys.count else { throw RedisError.unexpectedReply("reconcile: \(reply)") }
    }

    /// Gives a reservation back, per limit with ``TokenBucket/BucketState/cancel(_:at:)``'s
    /// rule: in full (and its FIFO place) when it is the latest reservation on that key;
    /// otherwise its cost minus the cost reserved after it, when positive; nothing once
    /// admitted. Zeroes the reservation, so a second cancel gives nothing.
    /// - Returns: tokens given back per limit.
    @discardableResult
    public func cancel(_ reservation: inout SharedReservation, at now: Nanoseconds? = nil) async throws -> [Double] {
        var arguments = [now.map(String.init) ?? ""]
        for part in reservation.parts {
            let scaled = ScaledLimit(part.limit.configuration)
            arguments += scaled.arguments + scaled.scaled(units: part.costUnits).arguments
                + part.reservedThrough.arguments + [part.floorBefore, part.gap.0, part.gap.1, part.epoch,
                                                    String(reservation.admitAt)]
        }
        let live = reservation.parts.filter { $0.costUnits > 0 }
        guard live.count == reservation.parts.count else {
            // Already cancelled (or partly): nothing more to give back.
            return reservation.parts.map { _ in 0 }
        }
        let reply = try await Self.cancelScript.run(on: client, keys: reservation.parts.map { prefix + $0.limit.key },
                                                    arguments: arguments, timeout: timeout)
        guard let r = reply.array, r.count == 1 + 2 * reservation.parts.count else {
            throw RedisError.unexpectedReply("cancel: \(reply)")
        }
        var back: [Double] = []
        for (k, part) in reservation.parts.enumerated() {
            let m = try Mixed(r[1 + 2 * k], r[2 + 2 * k])
            back.append(TokenUnits.tokens(ScaledLimit(part.limit.configuration).units(of: m)))
            reservation.parts[k].costUnits = 0
        }
        return back
    }

    /// Tokens in each bucket now (negative while reservations are promised ahead of refill),
    /// without changing anything: for dashboards showing the shared fill levels.
    public func levels(_ limits: [(key: String, configuration: BucketConfiguration)], at now: Nanoseconds? = nil) async throws -> [Double] {
        guard !limits.isEmpty else { return [] }
        var arguments = [now.map(String.init) ?? ""]
        for limit in limits { arguments += ScaledLimit(limit.configuration).arguments }
        let reply = try await Self.peekScript.run(on: client, keys: limits.map { prefix + $0.key },
                                                  arguments: arguments, timeout: timeout)
        guard let r = reply.array, r.count == 1 + 3 * limits.count else { throw RedisError.unexpectedReply("peek: \(reply)") }
        return try limits.enumerated().map { k, limit in
            let scaled = ScaledLimit(limit.configuration)
            let deficit = scaled.units(of: try Mixed(r[1 + 3 * k], r[2 + 3 * k]))
            return TokenUnits.tokens(scaled.capacityUnits - deficit)
        }
    }

    /// The cost in nano-tokens, refused when not finite and > 0 (a cost above capacity is the
    /// script's to answer: ``SharedAdmission/never(_:)``).
    static func units(_ limit: SharedLimit) throws -> Int64 {
        guard limit.cost.isFinite, limit.cost > 0, limit.cost <= 1e18 else { throw SharedStoreError.invalidCost(limit.cost) }
        let u = TokenUnits.units(limit.cost)
        guard u > 0 else { throw SharedStoreError.invalidCost(limit.cost) }
        return u
    }
}

/// A request the shared store refuses before asking Redis.
public enum SharedStoreError: Error, Hashable, CustomStringConvertible {
    case noLimits
    case invalidCost(Double)

    public var description: String {
        switch self {
        case .noLimits: "a shared admission needs at least one limit"
        case .invalidCost(let c): "cost must be a finite number >= 1e-9, got \(c)"
        }
    }
}
