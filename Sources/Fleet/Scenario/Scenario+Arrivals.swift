import TokenBucket

/// One request of a scenario's open-loop stream (see ``Scenario/openLoopArrivals(seed:duration:)``).
public struct ScenarioArrival: Sendable, Hashable {
    /// Arrival instant, ns from the start.
    public var at: Nanoseconds
    /// Index into ``Scenario/clientNames``.
    public var client: Int32
    /// Cost at the client bucket, nano-tokens.
    public var costUnits: Int64
    /// How long the provider takes to answer it, ns: time to first token, plus completion
    /// tokens at the output speed for LLM costs (as the simulator draws them).
    public var service: Nanoseconds
}

extension Scenario {
    /// Client names as the simulator names them: `<name>` for a single client, else
    /// `<name>-1` … `<name>-<count>`.
    public var clientNames: [String] {
        clients.flatMap { spec in
            spec.count == 1 ? [spec.name] : (1...spec.count).map { "\(spec.name)-\($0)" }
        }
    }

    /// Most arrivals ``openLoopArrivals(seed:duration:)`` generates.
    public static let maximumArrivals = 5_000_000

    /// What the scenario's clients send over `duration` when nothing limits them, in arrival
    /// order: the stream to feed several limiters at once.
    ///
    /// Open-loop clients draw their arrivals and costs from the same seeded streams as the
    /// simulator, so up to the first 429 retry they send exactly what `run` sees. There are no
    /// retries here. A closed-loop client of concurrency `n` becomes `n` senders, each sending
    /// again `service + think` after its previous request (what it would send through a limiter
    /// that never refuses). Service times come from the upstream's model, drawn from a stream of
    /// their own per client.
    ///
    /// ```swift
    /// let stream = try Scenario.burst.openLoopArrivals(seed: 1, duration: 60_000_000_000)
    /// ```
    /// - Throws: ``FleetError`` for an invalid scenario, a duration ≤ 0, or more than
    ///   ``maximumArrivals`` requests.
    public func openLoopArrivals(seed: UInt64, duration: Nanoseconds) throws -> [ScenarioArrival] {
        try FleetCore.validate(self)
        guard duration > 0 else { throw FleetError.invalid("duration must be > 0") }
        var all: [(ScenarioArrival, Int)] = []
        func add(_ a: ScenarioArrival) throws {
            guard all.count < Scenario.maximumArrivals else {
                throw FleetError.invalid("more than \(Scenario.maximumArrivals) arrivals: shorten the duration")
            }
            all.append((a, all.count))
        }
        var index = 0
        for spec in clients {
            for _ in 0..<spec.count {
                let c = Int32(index)
                index += 1
                // The simulator's client stream (its stream numbers start at 1).
                var rng = Xoshiro256(seed: seed, stream: UInt64(index))
                var serviceRng = Xoshiro256(seed: seed, stream: 0x5E_0000_0000 &+ UInt64(index))
                func service(_ cost: RequestCost) -> Nanoseconds {
                    var latency = serviceRng.uniform(upstream.ttft.lowerBound, upstream.ttft.upperBound)
                    if spec.cost.streams {
                        latency += Double(cost.completion)
                            / serviceRng.uniform(upstream.tokensPerSecond.lowerBound, upstream.tokensPerSecond.upperBound)
                    }
                    return Nanoseconds(Swift.min(latency * 1e9, 1e15))
                }
                if case let .closedLoop(n, think) = spec.arrival {
                    for _ in 0..<n {
                        var t = Arrival.closedLoopStagger(at: 0, rng: &rng)
                        while t < duration {
                            let cost = spec.cost.draw(rng: &rng)
                            let s = service(cost)
                            try add(ScenarioArrival(at: t, client: c, costUnits: cost.units, service: s))
                            t += Swift.max(1, s &+ think)
                        }
                    }
                    continue
                }
                var phase: Int64 = 0
                var next = spec.arrival.firstArrival(at: 0, rng: &rng, phase: &phase)
                while let t = next, t < duration {
                    // The simulator draws the cost when the request starts, then the next arrival.
                    let cost = spec.cost.draw(rng: &rng)
                    try add(ScenarioArrival(at: t, client: c, costUnits: cost.units, service: service(cost)))
                    next = spec.arrival.next(after: t, phase: phase, rng: &rng)
                }
            }
        }
        all.sort { ($0.0.at, $0.1) < ($1.0.at, $1.1) }
        return all.map(\.0)
    }
}
