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
                port?.cancelWait(slot: slot)   // port mode: the waiting task gives its tokens back
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
        if let port {
            // Port mode: the library re-plans its waiting tasks; the in-core bucket is the replay.
            table.keys[k].bucket.reconfigure(config, at: now)
            port.configure(key: Int32(k), keying: table.keying, isParent: table.keys[k].isParent, config)
            return
        }
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

    /// Sets the provider's limits from one of the library's presets and sizes the client buckets
    /// by the library's one rule (`ProviderPreset.clientLimits(keys:)`: 80 % of the limit, split
    /// evenly over the current keying's user-level keys; a request bucket bursts one second of
    /// its refill, a token bucket one minute). Parents in hierarchical keying get the same rule
    /// split over the parents. Token-costed fleets size from the token limit (input + output
    /// where the provider counts them apart: the fleet's bucket charges prompt + completion),
    /// others from the request limit. The note carries the library's arithmetic.
    mutating func applyPreset(_ name: String) throws {
        guard let p = ProviderPreset.named(name) else {
            throw FleetError.invalid("unknown preset \"\(name)\" (presets: \(ProviderLimits.presetNames.joined(separator: ", ")))")
        }
        let tokenCosted = clients.contains { $0.cost != .request }
        let users = userLevelKeys
        let parents = table.keys.indices.filter { table.keys[$0].isParent }
        let (userBucket, arithmetic) = try Self.clientBucket(p, keys: users.count, tokenCosted: tokenCosted)
        let parentBucket = parents.isEmpty ? nil : try Self.clientBucket(p, keys: parents.count, tokenCosted: tokenCosted).0
        upstream.limits = ProviderLimits(p.upstream)
        upstreamDims = try Self.dimensions(for: upstream.limits)
        func size(_ keys: [Int], _ bucket: BucketConfiguration) throws {
            for k in keys {
                table.keys[k].baseRefill = bucket.refill.perSecond
                try reconfigureKey(k, capacity: bucket.capacity, refill: bucket.refill.perSecond * tuningFactor)
            }
        }
        try size(users, userBucket)
        if let parentBucket { try size(parents, parentBucket) }
        setDefault(capacity: userBucket.capacity, refill: userBucket.refill.perSecond)
        note("preset \(p.name) over \(users.count) keys: \(arithmetic)", key: nil)
    }

    /// The one client bucket (of `keys` sharing the provider) the fleet gives each key, with the
    /// library's arithmetic for it.
    static func clientBucket(_ p: ProviderPreset, keys: Int, tokenCosted: Bool) throws -> (BucketConfiguration, String) {
        let limits = try p.clientLimits(keys: keys)
        let lines = try p.clientArithmetic(keys: keys)
        func line(_ dimension: String) -> String { lines.first { $0.hasPrefix(dimension + ":") } ?? dimension }
        if tokenCosted {
            if let t = limits.tokens { return (t, line("tokens")) }
            if let i = limits.inputTokens {
                guard let o = limits.outputTokens else { return (i, line("input tokens")) }
                let both = try BucketConfiguration(capacity: i.capacity + o.capacity, refillPerSecond: i.refill.perSecond + o.refill.perSecond)
                return (both, line("input tokens") + "; " + line("output tokens") + "; added: \(fmt(both.refill.perSecond))/s, capacity \(fmt(both.capacity))")
            }
        }
        if let r = limits.requests { return (r, line("requests")) }
        if let d = limits.requestsPerDay { return (d, line("requests per day")) }
        throw FleetError.invalid("preset \(p.name) has no limit to size buckets from")
    }

    // MARK: Tuning rule

    /// At the end of each window, the tuning rule (``TuningSpec/move(factor:requests:limited:)``)
    /// on the window's upstream answers: a 429 rate above the threshold cuts every client
    /// bucket's refill by `cut`; a window with requests and no 429 raises it by `raise`, never
    /// above the configured refill.
    mutating func onTune() {
        guard let t = scenario.tuning else { return }
        events.push(now + t.window, .tune, 0, 0)
        let reqs = windowRequests, r429 = window429
        windowRequests = 0; window429 = 0
        guard let move = t.move(factor: tuningFactor, requests: reqs, limited: r429) else { return }
        let before = tuningFactor
        tuningFactor = move.factor
        tuningMoves += 1
        for k in table.keys.indices {
            try? reconfigureKey(k, capacity: table.keys[k].bucket.configuration.capacity,
                                refill: table.keys[k].baseRefill * tuningFactor)
        }
        note("tuning: \(move.reason): refill factor \(fmt(before)) → \(fmt(tuningFactor))", key: nil)
    }

    mutating func note(_ summary: String, key: String?) {
        lastChange = ChangeNote(at: now, summary: summary, key: key)
    }
}
