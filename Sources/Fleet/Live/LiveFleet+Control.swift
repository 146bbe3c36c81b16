import TokenBucket

// Steering a live fleet: every command acts on the running buckets at once. Mirrors
// `SimCore+Control.swift`; the difference is the keying switch (see ``LiveFleet``).
extension LiveFleet {
    public func apply(_ command: FleetCommand) throws {
        switch command {
        case let .setCapacity(c, key):
            _ = try BucketConfiguration(capacity: c, refillPerSecond: 1)
            let (targets, before) = try book.withLock { b in
                let targets = try key.map { [try b.table.index(of: $0)] } ?? b.table.userLevel
                return (targets.map { b.table.keys[$0] }, b.table.keys[targets[0]].bucket.configuration.capacity)
            }
            for k in targets {
                try reconfigure(k, capacity: c, refill: k.bucket.configuration.refill.perSecond)
            }
            book.withLock { b in
                if key == nil { Self.setDefault(&b, capacity: c) }
                note(&b, "capacity \(key ?? "all \(b.table.keying.rawValue) keys") \(fmt(before)) → \(fmt(c))", key: key)
            }
        case let .setRefill(r, key):
            _ = try BucketConfiguration(capacity: 1, refillPerSecond: r)
            let (targets, before, factor) = try book.withLock { b in
                let targets = try key.map { [try b.table.index(of: $0)] } ?? b.table.userLevel
                let before = b.table.baseRefill[targets[0]]
                for i in targets { b.table.baseRefill[i] = r }
                return (targets.map { b.table.keys[$0] }, before, b.tuningFactor)
            }
            for k in targets {
                try reconfigure(k, capacity: k.bucket.configuration.capacity, refill: r * factor)
            }
            book.withLock { b in
                if key == nil { Self.setDefault(&b, refill: r) }
                note(&b, "refill \(key ?? "all \(b.table.keying.rawValue) keys") \(fmt(before))/s → \(fmt(r))/s", key: key)
            }
        case .setKeying(let k):
            try switchKeying(to: k)
        case .setNoisy(let on):
            setNoisy(on)
        case .applyPreset(let name):
            try applyPreset(name)
        }
    }

    /// Reconfigures one bucket now (the library re-plans its waiters) and records the change.
    func reconfigure(_ k: LiveKey, capacity: Double, refill: Double) throws {
        let config = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
        let now = clock.now()
        let level = k.bucket.snapshot().balance
        book.withLock { b in
            b.metrics.catchUp(key: k.metricsKey, to: now) { _ in level }
            b.metrics.setConfiguration(key: k.metricsKey, capacity: capacity, refillPerSecond: config.refill.perSecond)
        }
        k.reconfigure(config)
    }

    static func setDefault(_ b: inout Book, capacity: Double? = nil, refill: Double? = nil) {
        func edit(_ spec: inout BucketSpec) {
            if let c = capacity { spec.capacity = c }
            if let r = refill { spec.refillPerSecond = r }
        }
        switch b.table.keying {
        case .shared: edit(&b.limits.shared)
        case .perUser, .hierarchical: edit(&b.limits.perUser)
        case .perTenant: edit(&b.limits.perTenant)
        }
    }

    func note(_ b: inout Book, _ summary: String, key: String?) {
        b.lastChange = ChangeNote(at: clock.now(), summary: summary, key: key)
    }

    // MARK: Keying

    /// New requests and retries use `keying`'s buckets from now on; waiters stay where they
    /// are and are admitted there; the old buckets are parked, with their levels, for a switch
    /// back (picking up any tuning-factor change made meanwhile).
    func switchKeying(to keying: Keying) throws {
        let retune: [(LiveKey, Double)] = try book.withLock { b in
            let before = b.table.keying
            guard keying != before else { return [] }
            var next: LiveKeyTable
            var retune: [(LiveKey, Double)] = []
            if let parked = b.parked.removeValue(forKey: keying) {
                next = parked
                for (i, k) in next.keys.enumerated() where k.bucket.configuration.refill.perSecond != next.baseRefill[i] * b.tuningFactor {
                    retune.append((k, next.baseRefill[i] * b.tuningFactor))
                }
            } else {
                next = try LiveKeyTable.build(keying, clients: clients, tenants: tenants, limits: b.limits,
                                              tuningFactor: b.tuningFactor, metrics: &b.metrics, clock: clock,
                                              auditing: auditing)
            }
            b.parked[before] = b.table
            b.table = next
            note(&b, "keying \(before.rawValue) → \(keying.rawValue)", key: nil)
            return retune
        }
        for (k, r) in retune { try reconfigure(k, capacity: k.bucket.configuration.capacity, refill: r) }
    }

    // MARK: Noisy clients

    /// Turns the noisy clients' load off (their senders stop; requests already sent finish) or
    /// back on (senders start again from now).
    func setNoisy(_ on: Bool) {
        let changed: [Int] = book.withLock { b in
            b.noisyEnabled = on
            var changed: [Int] = []
            for c in clients.indices where clients[c].noisy && b.enabled[c] != on {
                b.enabled[c] = on
                b.epoch[c] &+= 1
                changed.append(c)
            }
            note(&b, "noisy clients \(on ? "on" : "off")", key: nil)
            return changed
        }
        if on { for c in changed { startSenders(c) } }
    }

    // MARK: Presets

    /// As the simulator: the provider's limits from the preset, client buckets at 80 % of
    /// them split evenly over the current keying's user-level keys (parents over the parents).
    func applyPreset(_ name: String) throws {
        guard let p = UpstreamLimits.presetEntry(named: name) else {
            throw FleetError.invalid("unknown preset \"\(name)\" (presets: \(UpstreamLimits.presetNames.joined(separator: ", ")))")
        }
        let tokenCosted = clients.contains { if case .request = $0.cost { return false } else { return true } }
        var dimension: UpstreamLimits.Dimension = tokenCosted ? .tokens : .requests
        var share = p.limits.clientShare(dimension: dimension)
        if share == nil { dimension = .requests; share = p.limits.clientShare(dimension: .requests) }
        guard let perMinute = share else { throw FleetError.invalid("preset \(name) has no limit to size buckets from") }
        let (users, parents, factor) = try book.withLock { b in
            try b.upstream.setLimits(p.limits)
            return (b.table.userLevel.map { b.table.keys[$0] }, b.table.keys.filter(\.isParent), b.tuningFactor)
        }
        func size(_ keys: [LiveKey]) throws -> (Double, Double) {
            guard !keys.isEmpty else { return (0, 0) }
            let capacity = Swift.max(1, perMinute / Double(keys.count))
            let refill = perMinute / 60 / Double(keys.count)
            book.withLock { b in
                for k in keys { if let i = b.table.keys.firstIndex(where: { $0 === k }) { b.table.baseRefill[i] = refill } }
            }
            for k in keys { try reconfigure(k, capacity: capacity, refill: refill * factor) }
            return (capacity, refill)
        }
        let (cap, refill) = try size(users)
        _ = try size(parents)
        book.withLock { b in
            Self.setDefault(&b, capacity: cap, refill: refill)
            let unit = dimension == .tokens ? "TPM" : "RPM"
            let limit = perMinute / UpstreamLimits.headroom
            note(&b, "preset \(p.title): \(fmt(limit)) \(unit) × 0.8 = \(fmt(perMinute))/min over \(users.count) keys = \(fmt(refill))/s each, capacity \(fmt(cap))", key: nil)
        }
    }

    // MARK: Tuning rule

    /// The simulator's tuning rule, every `window` of real time: cut every bucket's refill by
    /// `cut` after a window with too many 429s, raise it by `raise` after one without any.
    func tuner(_ t: TuningSpec) async {
        var end = Swift.max(0, clock.now()) + t.window   // windows end at window, 2 × window, ... as in the simulator
        while true {
            do { try await clock.sleep(until: end) } catch { return }
            end += t.window
            let moves: [(LiveKey, Double)]? = book.withLock { b in
                let reqs = b.windowRequests, r429 = b.window429
                b.windowRequests = 0
                b.window429 = 0
                guard reqs > 0 else { return nil }
                let rate = Double(r429) / Double(reqs)
                let before = b.tuningFactor
                if rate > t.threshold {
                    b.tuningFactor *= (1 - t.cut)
                } else if r429 == 0, let up = t.raise, b.tuningFactor < 1 {
                    b.tuningFactor = Swift.min(1, b.tuningFactor * (1 + up))
                } else {
                    return nil
                }
                b.tuningMoves += 1
                let why = rate > t.threshold ? "429 rate \(fmt(rate * 100))% > \(fmt(t.threshold * 100))%" : "no 429s"
                note(&b, "tuning: \(why): refill factor \(fmt(before)) → \(fmt(b.tuningFactor))", key: nil)
                return b.table.keys.indices.map { (b.table.keys[$0], b.table.baseRefill[$0] * b.tuningFactor) }
            }
            for (k, r) in moves ?? [] { try? reconfigure(k, capacity: k.bucket.configuration.capacity, refill: r) }
        }
    }
}
