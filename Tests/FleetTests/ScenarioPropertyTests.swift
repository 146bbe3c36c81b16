import Foundation
import Testing
import TokenBucket
@testable import Fleet

/// Property tests over the scenario validator and the simulator's arithmetic, with a seeded
/// generator of values from every corner (log-uniform magnitudes from 1e-15 to 1e15, negatives,
/// zero, infinities, the bounds themselves and their neighbours). Each prints its case count and
/// seed; set BUCKETSCOPE_FUZZ_SEED to try another.
@Suite struct ScenarioPropertyTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["BUCKETSCOPE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_130

    /// Any number: mostly log-uniform, sometimes a bound or a special value.
    static func anyNumber(_ rng: inout Xoshiro256, near bounds: [Double] = []) -> Double {
        let specials: [Double] = [0, -1, 1, .infinity, -.infinity, 1e-9, 1e9, 1e12, 9.3e9, 1e300, 1e-300, 0.001, 3600]
        switch rng.next() % 10 {
        case 0: return specials[Int(rng.next() % UInt64(specials.count))]
        case 1 where !bounds.isEmpty:
            let b = bounds[Int(rng.next() % UInt64(bounds.count))]
            return [b, b.nextUp, b.nextDown, b * 1.5, b / 1.5][Int(rng.next() % 5)]
        default:
            let x = pow(10, rng.uniform(-15, 15))
            return rng.next() % 8 == 0 ? -x : x
        }
    }

    static func toml(_ x: Double) -> String {
        x.isNaN ? "nan" : x.isInfinite ? (x < 0 ? "-inf" : "inf") : "\(x)"
    }

    static func duration(_ rng: inout Xoshiro256) -> String {
        let units = ["ns", "us", "ms", "s", "m", "h"]
        return "\"\(Int64(pow(10, rng.uniform(0, 4))))\(units[Int(rng.next() % 6)])\""
    }

    /// A scenario with random values in every numeric field of one client of a random kind.
    static func randomScenario(_ rng: inout Xoshiro256) -> String {
        // Mostly inside the field's range (so some scenarios pass every field), sometimes anything.
        func n(_ bounds: [Double]) -> String {
            let positive = bounds.filter { $0 > 0 }
            guard rng.next() % 100 < 92, let lo = positive.min(), let hi = positive.max() else { return toml(anyNumber(&rng, near: bounds)) }
            return toml(pow(10, rng.uniform(log10(lo), log10(hi))))
        }
        let arrivals = ["steady", "poisson", "on-off", "closed-loop", "ramp"]
        let arrival = arrivals[Int(rng.next() % 5)]
        var t = "duration = \(duration(&rng))\n[limits]\ncapacity = \(n([1e-9, 1e9]))\nrefill = \(n([1e-6, 1e9]))\n"
        t += "[upstream]\nrpm = \(n([0.001, 1e9]))\nttft = [0, \(n([0, 3600]))]\ntokens_per_s = \(n([0.001, 1e9]))\n"
        if rng.next() % 3 == 0 { t += "[tuning]\nwindow = \(duration(&rng))\ncut = \(n([0, 1]))\nthreshold = \(n([0, 1]))\n" }
        t += "[[clients]]\nname = \"c\"\narrival = \"\(arrival)\"\ncount = \(rng.next() % 10 == 0 ? Int(min(1e12, max(-1e12, anyNumber(&rng, near: [1, 100_000])))) : 1 + Int(rng.next() % 20))\n"
        switch arrival {
        case "steady", "poisson": t += "rate = \(n([1e-9, 1e9]))\n"
        case "on-off": t += "rate = \(n([1e-9, 1e9]))\non = \(duration(&rng))\noff = \(duration(&rng))\n"
        case "closed-loop": t += "concurrency = \(Int(min(1e12, max(-1e12, anyNumber(&rng, near: [1, 100_000])))))\nthink = \(duration(&rng))\n"
        default: t += "from = \(n([0, 1e-9, 1e9]))\nto = \(n([0, 1e-9, 1e9]))\nover = \(duration(&rng))\n"
        }
        t += "cost = \(n([1e-9, 1e9, 1e12]))\ndeadline = \(duration(&rng))\n"
        return t
    }

    /// Every random scenario is refused with file, line and field, or accepted and then
    /// simulated to completion within its budget. CPU-heavy (about 15 s): it runs on a thread
    /// of its own (``offPool(_:)``), so it never holds one of the cooperative pool's two
    /// threads for that long and starves the real-time tests beside it.
    @Test func everyScenarioIsRefusedWithItsLineOrRunsToCompletion() async throws {
        let (accepted, failures) = try await offPool { () throws -> (Int, [String]) in
            var rng = Xoshiro256(seed: Self.seed, stream: 1)
            var accepted = 0
            var failures: [String] = []
            for _ in 0..<1_000 {
                let text = Self.randomScenario(&rng)
                let scenario: Scenario
                do {
                    scenario = try Scenario.parse(toml: text, file: "p.toml")
                } catch let e as ScenarioError {
                    if e.line == nil || e.field.isEmpty { failures.append("no line or field: \(e) in\n\(text)") }
                    continue
                }
                let length = min(scenario.duration, 2 * InputLimits.second)
                guard (try? scenario.checkBudget(duration: length, budget: 20_000)) != nil else { continue }
                accepted += 1
                let sim = try Simulation(scenario: scenario, seed: rng.next())
                sim.run(until: length)
                let broken = conservationFailures(sim.metrics)
                if !broken.isEmpty { failures.append("\(broken) in\n\(text)") }
            }
            return (accepted, failures)
        }
        print("scenario property: 1000 cases, seed \(Self.seed), \(accepted) accepted and simulated")
        #expect(failures.isEmpty, "\(failures.count) failures, the first: \(failures.first ?? "")")
        #expect(accepted > 100)
    }

    /// Every accepted arrival process draws a next arrival later than `t` (never earlier, never
    /// trapping), for any `t` within a year; instants past the horizon are `CheckedTime.never`.
    @Test func arrivalsMoveForwardWithoutTrapping() {
        var rng = Xoshiro256(seed: Self.seed, stream: 2)
        let cases = 20_000
        var checked = 0
        for _ in 0..<cases {
            let rate = pow(10, rng.uniform(-9, 9))
            let on = Nanoseconds(pow(10, rng.uniform(3, log10(Double(InputLimits.year)))))
            let off = Nanoseconds(pow(10, rng.uniform(0, log10(Double(InputLimits.year)))))
            let over = Nanoseconds(pow(10, rng.uniform(0, log10(Double(InputLimits.year)))))
            let arrivals: [Arrival] = [
                .steady(rate: rate), .poisson(rate: rate),
                .ramp(from: rng.next() % 2 == 0 ? 0 : rate, to: pow(10, rng.uniform(-9, 9)), over: over),
            ] + (rate * Double(on) / 1e9 >= InputLimits.minimumRequestsPerOnPeriod ? [.onOff(rate: rate, on: on, off: off)] : [])
            let t = Nanoseconds(rng.uniform(0, Double(InputLimits.year)))
            for a in arrivals {
                var draw = rng
                var phase: Nanoseconds = 0
                _ = a.firstArrival(at: t, rng: &draw, phase: &phase)
                if let next = a.next(after: t, phase: phase, rng: &draw) {
                    #expect(next > t && next <= CheckedTime.never, "\(a) after \(t): \(next)")
                }
                checked += 1
            }
            _ = rng.next()
        }
        print("arrival property: \(checked) draws, seed \(Self.seed)")
    }

    /// Every accepted cost draws a positive nano-token count; costs above the largest capacity
    /// stay above it.
    @Test func costsDrawPositiveUnitsAndLargeOnesStayAboveEveryCapacity() {
        var rng = Xoshiro256(seed: Self.seed, stream: 3)
        let largest = TokenUnits.units(BucketConfiguration.maximumCapacity)
        for _ in 0..<20_000 {
            let x = pow(10, rng.uniform(-9, 12))
            let c = CostModel.fixed(x).draw(rng: &rng)
            #expect(c.units > 0)
            #expect(c.prompt > 0)
            if x > BucketConfiguration.maximumCapacity { #expect(c.units > largest) } else { #expect(c.units == TokenUnits.units(x)) }
        }
        print("cost property: 20000 cases, seed \(Self.seed)")
    }
}
