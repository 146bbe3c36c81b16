import TokenBucket

// Clients: when they send, what each request costs, and what happens when one finishes.
extension SimCore {
    mutating func scheduleFirstArrivals(_ c: Int) {
        guard clients[c].enabled else { return }
        let epoch = clients[c].epoch
        switch clients[c].arrival {
        case let .closedLoop(n, _):
            // Stagger the first sends over 10 ms so a loop does not start as one burst.
            let missing = Int32(n) - clients[c].live
            guard missing > 0 else { return }
            for _ in 0..<missing {
                let at = now + Int64(clients[c].rng.nextUnit() * 10_000_000)
                events.push(at, .arrival, Int32(c), epoch)
            }
        case .steady(let rate):
            let interval = 1e9 / rate
            events.push(now + Int64(clients[c].rng.nextUnit() * interval), .arrival, Int32(c), epoch)
        case let .onOff(_, on, off):
            clients[c].phase = Int64(clients[c].rng.nextUnit() * Double(on + off))
            if let t = nextArrival(c, after: now) { events.push(t, .arrival, Int32(c), epoch) }
        case .poisson, .ramp:
            if let t = nextArrival(c, after: now) { events.push(t, .arrival, Int32(c), epoch) }
        }
    }

    /// The next open-loop arrival after `t` (nil for closed-loop clients).
    mutating func nextArrival(_ c: Int, after t: Int64) -> Int64? {
        switch clients[c].arrival {
        case .steady(let rate):
            return t + Swift.max(1, Int64((1e9 / rate).rounded()))
        case .poisson(let rate):
            return t + Swift.max(1, Int64(clients[c].rng.exponential(rate: rate) * 1e9))
        case let .onOff(rate, on, off):
            let cycle = on + off
            var from = t
            while true {
                let pos = (from + clients[c].phase) % cycle
                if pos >= on {   // in the off part: jump to the next on start
                    from += cycle - pos
                    continue
                }
                let next = from + Swift.max(1, Int64(clients[c].rng.exponential(rate: rate) * 1e9))
                let onEnd = from + (on - pos)
                if next < onEnd { return next }
                from = onEnd   // memoryless: restart the draw at the next on period
            }
        case let .ramp(from, to, over):
            // A Poisson process whose rate moves linearly from `from` to `to` over `over` (from the
            // start of the run), by inversion: the next arrival is where the expected count
            // Λ(t) = ∫ rate grows by an Exp(1) draw.
            let T = Double(over) / 1e9
            let b = (to - from) / T
            func cumulative(_ x: Double) -> Double {
                x <= T ? from * x + b * x * x / 2 : from * T + b * T * T / 2 + to * (x - T)
            }
            let target = cumulative(Double(t) / 1e9) + clients[c].rng.exponential(rate: 1)
            let atEnd = cumulative(T)
            let x: Double
            if target <= atEnd {
                x = abs(b) < 1e-12 ? target / from : (-from + (from * from + 2 * b * target).squareRoot()) / b
            } else {
                guard to > 0 else { return nil }   // ramped down to silence
                x = T + (target - atEnd) / to
            }
            return Swift.max(t + 1, Int64((x * 1e9).rounded(.up)))
        case .closedLoop:
            return nil
        }
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
        var units: Int64
        var prompt: Int32 = 1, completion: Int32 = 0
        switch clients[c].cost {
        case .request:
            units = TokenUnits.perToken
        case .fixed(let x):
            units = TokenUnits.units(x)
            prompt = Int32(clamping: Int64(x.rounded(.up)))
        case .llm(let p):
            prompt = Int32(Swift.min(1_000_000, Swift.max(1, clients[c].rng.lognormal(mu: p.promptMu, sigma: p.promptSigma).rounded())))
            completion = Int32(Swift.min(1_000_000, Swift.max(1, clients[c].rng.lognormal(mu: p.completionMu, sigma: p.completionSigma).rounded())))
            units = Int64(prompt + completion) * TokenUnits.perToken
        }
        let d = clients[c].deadline
        requests[s].client = Int32(c)
        requests[s].attempt = 0
        requests[s].firstArrival = now
        requests[s].deadline = d == .max ? .max : now + d
        requests[s].costUnits = units
        requests[s].prompt = prompt
        requests[s].completion = completion
        enterLimiter(slot, requeue: false)
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
        switch outcome {
        case .completed: completed &+= 1
        case .failed: failed &+= 1
        case .refused: break
        }
        if case .closedLoop(_, let think) = clients[c].arrival, clients[c].enabled {
            // After a refusal wait at least 1 ms, so a refused loop cannot spin at one instant.
            let pause = outcome == .completed ? think : Swift.max(think, Self.oneMillisecond)
            events.push(now + pause, .arrival, Int32(c), clients[c].epoch)
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
