import TokenBucket

// Steering a running simulation: keying switches, bucket changes, presets, the tuning rule.
extension FleetCore {
    // MARK: Keying switch

    /// Switches keying at `now`. Every waiting request (in a user's or a parent's queue) has its
    /// reservation given back (latest first, so each give-back is exact), leaves its old key
    /// (counted there as `moved`), and re-enters the new keying's limiter at this instant, in
    /// order of its original arrival at the limiter. Its wait keeps counting from that original
    /// arrival; if the new bucket would admit it after its deadline, it times out at once.
    /// Buckets of the old strategy are kept (with their levels) for a switch back.
    mutating func switchKeying(to keying: Keying) throws {
        guard keying != table.keying else { return }
        var moving: [Int32] = []
        for k in table.keys.indices {
            guard !table.keys[k].queue.isEmpty else { continue }
            catchUp(Int32(k))
            let q = table.keys[k].queue
            for slot in q.reversed() {
                if var r = requests[Int(slot)].reservation { table.keys[k].bucket.cancel(&r, at: now) }
            }
            for slot in q {
                let s = Int(slot)
                metrics.moved(key: table.keys[k].metricsKey)
                if table.keys[k].isParent {
                    let ck = requests[s].childKey
                    catchUp(ck)
                    metrics.moved(key: table.keys[Int(ck)].metricsKey)
                }
                moving.append(slot)
            }
            table.keys[k].queue.removeAll()
        }
        moving.sort { requests[Int($0)].order < requests[Int($1)].order }
        let old = table
        if let t = parked.removeValue(forKey: keying) {
            table = t
            // The tuning factor may have moved while these buckets were parked.
            for k in table.keys.indices {
                let want = table.keys[k].baseRefill * tuningFactor
                if table.keys[k].bucket.configuration.refill.perSecond != want {
                    try reconfigureKey(k, capacity: table.keys[k].bucket.configuration.capacity, refill: want)
                }
            }
        } else {
            table = try buildTable(keying)
        }
        parked[old.keying] = old
        for slot in moving {
            let s = Int(slot)
            requests[s].gen &+= 1
            requests[s].reservation = nil
            enterLimiter(slot, requeue: true)
        }
    }

    // MARK: Reconfiguring a bucket

    /// Sets a key's capacity and refill at `now`, with immediate effect on its waiters.
    ///
    /// Without waiters this is `BucketState.reconfigure`. With waiters, their reservations are
    /// given back (latest first, exactly), the bucket is rebuilt at the new configuration with
    /// the same level (capped at the new capacity), and the waiters reserve again in their
    /// original order: a faster refill admits them sooner at once, a slower one later. A waiter
    /// that no longer fits (cost above the new capacity, or admission after its deadline) times
    /// out at this instant. (`reconfigure` alone would keep the old admission times.)
    mutating func reconfigureKey(_ k: Int, capacity: Double, refill: Double) throws {
        let config = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
        catchUp(Int32(k))
        metrics.setConfiguration(key: table.keys[k].metricsKey, capacity: capacity, refillPerSecond: config.refill.perSecond)
        table.keys[k].capacityUnits = TokenUnits.units(capacity)
        let q = table.keys[k].queue
        if q.isEmpty {
            table.keys[k].bucket.reconfigure(config, at: now)
            return
        }
        for slot in q.reversed() {
            if var r = requests[Int(slot)].reservation { table.keys[k].bucket.cancel(&r, at: now) }
        }
        let level = table.keys[k].bucket.balance(at: now)
        var fresh = BucketState(config)
        let missing = capacity - Swift.min(level, capacity)
        if missing > 0 { try fresh.charge(missing, at: now) }
        table.keys[k].bucket = fresh
        table.keys[k].queue.removeAll()
        let isParent = table.keys[k].isParent
        for slot in q {
            let s = Int(slot)
            requests[s].gen &+= 1
            let units = requests[s].costUnits
            let deadline = requests[s].deadline
            let fits = units <= table.keys[k].capacityUnits
                && (deadline == .max || table.keys[k].bucket.admissionTime(units: units, at: now) <= deadline)
            guard fits else {
                let c = Int(requests[s].client)
                let ck = Int(requests[s].childKey)
                if isParent {
                    metrics.timedOut(key: table.keys[k].metricsKey, group: -1, wasQueued: true)
                    catchUp(Int32(ck))
                }
                metrics.timedOut(key: table.keys[ck].metricsKey, group: Int(clients[c].group), wasQueued: requests[s].queuedChild)
                requests[s].reservation = nil
                finish(slot, .refused)
                continue
            }
            let r = table.keys[k].bucket.reserve(units: units, at: now)
            requests[s].reservation = r
            table.keys[k].queue.append(slot)
            events.push(r.admitAt, .admit, slot, requests[s].gen)
        }
    }

    /// Index of the key named `name` in the current keying, or a message naming the choices.
    func keyIndex(_ name: String) throws -> Int {
        if let i = table.keys.firstIndex(where: { $0.name == name }) { return i }
        let names = table.keys.prefix(8).map(\.name).joined(separator: ", ")
        throw FleetError.invalid("no key \"\(name)\" under \(table.keying.rawValue) keying (keys: \(names)\(table.keys.count > 8 ? ", ..." : ""))")
    }

    /// Keys a command without a key applies to: every user-level key (parents keep theirs).
    var userLevelKeys: [Int] { table.keys.indices.filter { !table.keys[$0].isParent } }

    mutating func setDefault(capacity: Double? = nil, refill: Double? = nil) {
        func edit(_ spec: inout BucketSpec) {
            if let c = capacity { spec.capacity = c }
            if let r = refill { spec.refillPerSecond = r }
        }
        switch table.keying {
        case .shared: edit(&limits.shared)
        case .perUser, .hierarchical: edit(&limits.perUser)
        case .perTenant: edit(&limits.perTenant)
        }
    }

    // MARK: Commands

    mutating func apply(_ command: FleetCommand) throws {
        switch command {
        case let .setCapacity(c, key):
            _ = try BucketConfiguration(capacity: c, refillPerSecond: 1)
            let targets = try key.map { [try keyIndex($0)] } ?? userLevelKeys
            let before = table.keys[targets[0]].bucket.configuration.capacity
            for k in targets {
                try reconfigureKey(k, capacity: c, refill: table.keys[k].bucket.configuration.refill.perSecond)
            }
            if key == nil { setDefault(capacity: c) }
            note("capacity \(key ?? "all \(table.keying.rawValue) keys") \(fmt(before)) → \(fmt(c))", key: key)
        case let .setRefill(r, key):
            _ = try BucketConfiguration(capacity: 1, refillPerSecond: r)
            let targets = try key.map { [try keyIndex($0)] } ?? userLevelKeys
            let before = table.keys[targets[0]].baseRefill
            for k in targets {
                table.keys[k].baseRefill = r
                try reconfigureKey(k, capacity: table.keys[k].bucket.configuration.capacity, refill: r * tuningFactor)
            }
            if key == nil { setDefault(refill: r) }
            note("refill \(key ?? "all \(table.keying.rawValue) keys") \(fmt(before))/s → \(fmt(r))/s", key: key)
        case .setKeying(let k):
            let before = table.keying
            try switchKeying(to: k)
            note("keying \(before.rawValue) → \(k.rawValue)", key: nil)
        case .setNoisy(let on):
            setNoisy(on)
            note("noisy clients \(on ? "on" : "off")", key: nil)
        case .applyPreset(let name):
            try applyPreset(name)
        }
    }

    /// Sets the provider's limits from a preset and sizes the client buckets at 80 % of them,
    /// split evenly over the current keying's user-level keys: each gets refill
    /// `0.8 × limit / 60 / keys` per second and a capacity of one minute of that (providers
    /// refill continuously with a minute's worth of burst). Parents in hierarchical keying get
    /// the same split over the parents. Token-costed fleets size from TPM, others from RPM.
    mutating func applyPreset(_ name: String) throws {
        guard let p = ProviderLimits.presetEntry(named: name) else {
            throw FleetError.invalid("unknown preset \"\(name)\" (presets: \(ProviderLimits.presetNames.joined(separator: ", ")))")
        }
        let tokenCosted = clients.contains { if case .request = $0.cost { return false } else { return true } }
        var dimension: ProviderLimits.Dimension = tokenCosted ? .tokens : .requests
        var share = p.limits.clientShare(dimension: dimension)
        if share == nil { dimension = .requests; share = p.limits.clientShare(dimension: .requests) }
        guard let perMinute = share else { throw FleetError.invalid("preset \(name) has no limit to size buckets from") }
        upstream.limits = p.limits
        upstreamDims = try Self.dimensions(for: p.limits)
        let users = userLevelKeys
        let parents = table.keys.indices.filter { table.keys[$0].isParent }
        func size(_ keys: [Int]) throws -> (Double, Double) {
            guard !keys.isEmpty else { return (0, 0) }
            let capacity = Swift.max(1, perMinute / Double(keys.count))
            let refill = perMinute / 60 / Double(keys.count)
            for k in keys {
                table.keys[k].baseRefill = refill
                try reconfigureKey(k, capacity: capacity, refill: refill * tuningFactor)
            }
            return (capacity, refill)
        }
        let (cap, refill) = try size(users)
        _ = try size(parents)
        setDefault(capacity: cap, refill: refill)
        let unit = dimension == .tokens ? "TPM" : "RPM"
        let limit = perMinute / ProviderLimits.headroom
        note("preset \(p.title): \(fmt(limit)) \(unit) × 0.8 = \(fmt(perMinute))/min over \(users.count) keys = \(fmt(refill))/s each, capacity \(fmt(cap))", key: nil)
    }

    // MARK: Tuning rule

    /// At the end of each window: if the provider's 429 rate in it exceeded the threshold, cut
    /// every client bucket's refill by `cut` (factor × 0.8 by default); after a window with
    /// requests and no 429, raise it by `raise`, never above the configured refill.
    mutating func onTune() {
        guard let t = scenario.tuning else { return }
        events.push(now + t.window, .tune, 0, 0)
        let reqs = windowRequests, r429 = window429
        windowRequests = 0; window429 = 0
        guard reqs > 0 else { return }
        let rate = Double(r429) / Double(reqs)
        let before = tuningFactor
        if rate > t.threshold {
            tuningFactor *= (1 - t.cut)
        } else if r429 == 0, let up = t.raise, tuningFactor < 1 {
            tuningFactor = Swift.min(1, tuningFactor * (1 + up))
        } else {
            return
        }
        tuningMoves += 1
        for k in table.keys.indices {
            try? reconfigureKey(k, capacity: table.keys[k].bucket.configuration.capacity,
                                refill: table.keys[k].baseRefill * tuningFactor)
        }
        let why = rate > t.threshold ? "429 rate \(fmt(rate * 100))% > \(fmt(t.threshold * 100))%" : "no 429s"
        note("tuning: \(why): refill factor \(fmt(before)) → \(fmt(tuningFactor))", key: nil)
    }

    mutating func note(_ summary: String, key: String?) {
        lastChange = ChangeNote(at: now, summary: summary, key: key)
    }
}
