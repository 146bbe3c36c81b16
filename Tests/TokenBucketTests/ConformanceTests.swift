import Testing
@testable import TokenBucket

/// Randomized schedules of reserve, tryAcquire, cancel (tail and middle) and reconfigure on a
/// BucketState, checked two ways after every step:
/// - a ledger (a plain token count, refilled and capped between steps, every take and every
///   give-back counted once) must equal the bucket's exact level: nothing lost, nothing
///   counted twice;
/// - over the whole run, every window `[a, b]` of admitted cost is at most
///   `capacity + refill × (b − a)`.
@Suite("Conformance over randomized schedules")
struct ConformanceTests {
    struct Taken {
        var units: Int64
        var through: Int128          // running total of units taken up to and including this one
        var reservation: Reservation?
        var givenBack: Int64 = 0
        var at: Nanoseconds          // admission instant
        var floorBefore: Nanoseconds // the ledger's FIFO floor before this take
        var gap: Int128 = 0          // refill skipped by taking at a later instant (ledger units)
        var epoch = 0                // reconfigurations before this take
    }

    static let configurations: [(capacity: Double, rate: Rate)] = [
        (5, try! Rate(numerator: 3, denominator: 1)),
        (2.5, try! Rate(numerator: 4, denominator: 5)),
        (8, try! Rate(numerator: 7, denominator: 1)),
        (4, try! Rate(numerator: 20, denominator: 3)),
    ]

    /// Runs one schedule; returns admitted events and the largest configuration used.
    static func run(seed: UInt64, steps: Int, reconfigure: Bool) throws -> (events: [Admitted], capacityUnits: Int64, p: Int64, q: Int64) {
        var g = SeededGenerator(seed: seed)
        var configIndex = Int(g.next() % UInt64(configurations.count))
        var config = try BucketConfiguration(capacity: configurations[configIndex].capacity, refill: configurations[configIndex].rate)
        var bucket = BucketState(config)
        var used = [configIndex]

        // The ledger: level in nano-tokens × q, as of `ledgerTime`.
        var q = Int128(config.refill.denominator), p = Int128(config.refill.numerator)
        var burst = Int128(TokenUnits.units(config.capacity)) * q
        var level = burst
        var ledgerTime: Nanoseconds = 0
        var total: Int128 = 0
        var taken: [Taken] = []
        var floor: Nanoseconds = .min   // no admission before the latest one handed out
        var takeover: Nanoseconds = .min  // where the last reconfiguration took over
        var epoch = 0

        var t: Nanoseconds = 0
        for step in 0..<steps {
            t += Nanoseconds(g.next() % UInt64(400 * millisecond))
            level = Swift.min(burst, level + p * Int128(t - ledgerTime))
            ledgerTime = t
            let roll = g.next() % 100
            let cost = Int64(g.next() % UInt64(TokenUnits.units(config.capacity))) + 1
            switch roll {
            case 0..<45:
                let r = bucket.reserve(units: cost, at: t)
                total += Int128(cost)
                // A reservation held back by the floor takes its tokens at the floor instant:
                // seen from now, the bucket can be no fuller than full-at-the-floor.
                let start = Swift.max(t, floor)
                #expect(r.admitAt >= start)
                let gap = Swift.max(0, level - (burst - p * Int128(start - t)))
                taken.append(Taken(units: cost, through: total, reservation: r, at: r.admitAt, floorBefore: floor,
                                   gap: gap, epoch: epoch))
                level = level - gap - Int128(cost) * q
                floor = r.admitAt
            case 45..<75:
                if bucket.tryAcquire(units: cost, at: t) {
                    #expect(level >= Int128(cost) * q, "step \(step): tryAcquire admitted without the tokens")
                    total += Int128(cost)
                    taken.append(Taken(units: cost, through: total, reservation: nil, at: t, floorBefore: floor))
                    level -= Int128(cost) * q
                    floor = t
                }
            case 75..<95:
                // Cancel a pending reservation: usually the latest, sometimes one in the middle.
                let pending = taken.indices.filter { taken[$0].reservation.map { $0.costUnits > 0 && $0.admitAt >= t } ?? false }
                guard let pick = (g.next() % 3 == 0 ? pending.randomElement(using: &g) : pending.last) else { break }
                var r = taken[pick].reservation!
                let back = TokenUnits.units(bucket.cancel(&r, at: t))
                let later = total - taken[pick].through
                let expected = later == 0 ? Int128(taken[pick].units) : Swift.max(0, Int128(taken[pick].units) - later)
                #expect(Int128(back) == expected, "step \(step): cancel gave back \(back), expected \(expected)")
                if later == 0 {
                    // The latest reservation rolls back exactly, skipped refill included, unless
                    // a reconfiguration has changed the scale since.
                    total -= Int128(taken[pick].units)
                    floor = Swift.max(taken[pick].floorBefore, takeover)
                    if taken[pick].epoch == epoch { level += taken[pick].gap }
                }
                taken[pick].reservation = r
                taken[pick].givenBack = back
                level = Swift.min(burst, level + Int128(back) * q)   // a bucket never holds more than its capacity
                #expect(bucket.cancel(&r, at: t) == 0)           // twice gives nothing
            default:
                guard reconfigure else { break }
                configIndex = Int(g.next() % UInt64(configurations.count))
                used.append(configIndex)
                config = try BucketConfiguration(capacity: configurations[configIndex].capacity, refill: configurations[configIndex].rate)
                bucket.reconfigure(config, at: t)
                // Promises keep their instants, paid at the old rate; the new configuration
                // takes over at the latest one (or now), with the level the bucket has then.
                takeover = Swift.max(t, floor)
                epoch += 1
                let levelThen = Swift.min(burst, level + p * Int128(takeover - t))
                let newQ = Int128(config.refill.denominator), newP = Int128(config.refill.numerator)
                let newBurst = Int128(TokenUnits.units(config.capacity)) * newQ
                let (quotient, remainder) = (levelThen * newQ).quotientAndRemainder(dividingBy: q)
                level = Swift.min(newBurst, remainder < 0 ? quotient - 1 : quotient) - newP * Int128(takeover - t)
                q = newQ
                p = newP
                burst = newBurst
            }
            let actual = bucket.gcra.scaledLevel(bucket.tat, at: t)
            if actual != level {
                Issue.record("seed \(seed) step \(step): bucket level \(actual), ledger \(level) (× 1/q nano-tokens)")
                break
            }
        }
        let events = taken.map { Admitted(at: $0.at, units: $0.units - $0.givenBack) }.filter { $0.units > 0 }
        let maxCapacity = used.map { TokenUnits.units(configurations[$0].capacity) }.max()!
        let fastest = used.map { configurations[$0].rate }.max { $0.perSecond < $1.perSecond }!
        return (events, maxCapacity, fastest.numerator, fastest.denominator)
    }

    @Test("every window conforms and the ledger matches, with cancellations", arguments: 1...12)
    func conformsWithCancellations(seed: UInt64) throws {
        let run = try Self.run(seed: seed, steps: 3_000, reconfigure: false)
        #expect(run.events.count > 500)
        #expect(worstExcess(run.events, capacityUnits: run.capacityUnits, p: run.p, q: run.q) <= 0)
    }

    /// With reconfigurations, reservations handed out before a change keep their instants, so
    /// the bound is the largest capacity plus the fastest refill used.
    @Test("with reconfigurations too, the ledger matches and windows stay within the largest configuration",
          arguments: 101...106)
    func conformsWithReconfigurations(seed: UInt64) throws {
        let run = try Self.run(seed: seed, steps: 3_000, reconfigure: true)
        #expect(worstExcess(run.events, capacityUnits: run.capacityUnits, p: run.p, q: run.q) <= 0)
    }

    @Test("the window check itself catches a burst over capacity")
    func windowCheckCanFail() {
        let events = [Admitted(at: 0, units: 5 * TokenUnits.perToken), Admitted(at: 1, units: TokenUnits.perToken)]
        #expect(worstExcess(events, capacityUnits: 5 * TokenUnits.perToken, p: 1, q: 1) > 0)
        let spaced = [Admitted(at: 0, units: 5 * TokenUnits.perToken), Admitted(at: second, units: TokenUnits.perToken)]
        #expect(worstExcess(spaced, capacityUnits: 5 * TokenUnits.perToken, p: 1, q: 1) <= 0)
    }
}
