import TokenBucket

// Clients: when they send, what each request costs, and what happens when one finishes.
extension FleetCore {
    mutating func scheduleFirstArrivals(_ c: Int) {
        guard clients[c].enabled, !arrivalsPaused else { return }
        let epoch = clients[c].epoch
        let arrival = clients[c].arrival
        var rng = clients[c].rng
        defer { clients[c].rng = rng }
        if case let .closedLoop(n, _) = arrival {
            let missing = Int32(n) - clients[c].live
            guard missing > 0 else { return }
            for _ in 0..<missing { events.push(Arrival.closedLoopStagger(at: now, rng: &rng), .arrival, Int32(c), epoch) }
            return
        }
        var phase = clients[c].phase
        if let t = arrival.firstArrival(at: now, rng: &rng, phase: &phase) { events.push(t, .arrival, Int32(c), epoch) }
        clients[c].phase = phase
    }

    /// The next open-loop arrival after `t` (nil for closed-loop clients).
    mutating func nextArrival(_ c: Int, after t: Int64) -> Int64? {
        let arrival = clients[c].arrival, phase = clients[c].phase
        return arrival.next(after: t, phase: phase, rng: &clients[c].rng)
    }

    mutating func onArrival(client c: Int, epoch: UInt32) {
        guard clients[c].epoch == epoch, clients[c].enabled else { return }
        startRequest(client: c)
        if let t = nextArrival(c, after: now) { events.push(t, .arrival, Int32(c), epoch) }
    }

    mutating func allocateSlot() -> Int32 {
        if let s = freeSlots.popLast() { return s }
        requests.append(Request())
        return Int32(requests.count - 1)
    }

    mutating func startRequest(client c: Int) {
        let slot = allocateSlot()
        let s = Int(slot)
        started &+= 1
        clients[c].live &+= 1
        let model = clients[c].cost
        let cost = model.draw(rng: &clients[c].rng)
        let (units, prompt, completion) = (cost.units, cost.prompt, cost.completion)
        let d = clients[c].deadline
        requests[s].client = Int32(c)
        requests[s].attempt = 0
        requests[s].firstArrival = now
        requests[s].deadline = d == .max ? .max : now + d
        requests[s].costUnits = units
        requests[s].prompt = prompt
        requests[s].completion = completion
        route(slot)
    }

    enum Outcome { case completed, refused, failed }

    /// Frees the slot; a closed-loop client sends its next request.
    mutating func finish(_ slot: Int32, _ outcome: Outcome) {
        let s = Int(slot)
        let c = Int(requests[s].client)
        requests[s].gen &+= 1
        requests[s].phase = .free
        requests[s].reservation = nil
        requests[s].queuedChild = false
        requests[s].queuedParent = false
        freeSlots.append(slot)
        clients[c].live &-= 1
        if outcome == .refused, replicaState != nil { replicaState!.refused[Int(requests[s].replica)] &+= 1 }
        switch outcome {
        case .completed: completed &+= 1
        case .failed: failed &+= 1
        case .refused: break
        }
        if case .closedLoop(_, let think) = clients[c].arrival, clients[c].enabled, !arrivalsPaused {
            // After a refusal wait at least 1 ms, so a refused loop cannot spin at one instant.
            let pause = outcome == .completed ? think : Swift.max(think, Self.oneMillisecond)
            // A refusal by the shared store reaches the client half a round trip later.
            events.push(Swift.max(now, requests[s].answerAt) + pause, .arrival, Int32(c), clients[c].epoch)
        }
    }

    /// Stops every client's new arrivals (pending ones are dropped) or starts them again from
    /// now (closed loops refill their concurrency). Requests already sent go on: waiters are
    /// admitted, answers arrive, 429s are retried. The live driver's pause; the virtual driver
    /// pauses by not being advanced.
    mutating func setArrivalsPaused(_ paused: Bool) {
        guard paused != arrivalsPaused else { return }
        arrivalsPaused = paused
        for c in clients.indices where clients[c].enabled {
            clients[c].epoch &+= 1
            if !paused { scheduleFirstArrivals(c) }
        }
    }

    /// Turns the noisy clients' load off (pending arrivals are dropped; requests already sent
    /// finish) or back on.
    mutating func setNoisy(_ on: Bool) {
        noisyEnabled = on
        for c in clients.indices where clients[c].noisy {
            guard clients[c].enabled != on else { continue }
            clients[c].enabled = on
            clients[c].epoch &+= 1
            if on { scheduleFirstArrivals(c) }
        }
    }
}
