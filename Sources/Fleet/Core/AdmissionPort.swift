import TokenBucket

/// Where the fleet core sends a request through its client-side bucket(s) when a driver wants
/// real limiters to do the waiting instead of the core's own queues.
///
/// Without a port (the virtual driver, and the paced ``LiveFleet``) the core keeps its exact
/// in-core queues and nothing here runs: their output is unchanged bit for bit. With a port
/// (``TaskFleet``), the core still decides everything else (clients and draws, keying, the
/// capacity and queue-limit refusals, the provider, retries, metrics, snapshots) and:
/// - asks ``tryAdmit(key:parent:keying:units:)`` for the no-wait path (synchronously, as the
///   simulator admits at once);
/// - otherwise keeps the request in its key's queue as a record (for `waiting`, the oldest
///   wait and moves) and hands it to ``wait(slot:gen:key:parent:keying:units:deadline:now:)``:
///   the port makes a task that waits on the library limiter and reports back through the
///   driver (``FleetCore/portAdmitted(slot:gen:)``, ``FleetCore/portRefused(slot:gen:atOnce:)``);
/// - on a keying switch cancels each waiter (``cancelWait(slot:)``, its tokens given back) and
///   enters it again on the new buckets in arrival order;
/// - on every bucket change (command, preset, tuning, new keying table) calls
///   ``configure(key:keying:isParent:_:)``, and the library re-plans the waiting tasks.
///
/// In port mode each key's in-core `BucketState` is not a limiter but a replay: it takes each
/// admission's cost at its admission instant, so after a stop it must equal the library's
/// bucket (the conservation check) and it draws the key's token chart between snapshots.
///
/// Calls come with the driver's lock held: implementations must not call back into the driver
/// synchronously.
protocol AdmissionPort: AnyObject, Sendable {
    /// Sets the bucket of `key` (an index into the keying's table) to `configuration`.
    func configure(key: Int32, keying: Keying, isParent: Bool, _ configuration: BucketConfiguration)
    /// Takes `units` from the key's bucket (and `parent`'s, if >= 0) if both have them now and
    /// nobody waits there.
    func tryAdmit(key: Int32, parent: Int32, keying: Keying, units: Int64) -> Bool
    /// Starts the wait of request `slot` (use `gen`) on the limiter; `deadline` in fleet ns
    /// (.max: none), `now` the fleet's time.
    func wait(slot: Int32, gen: UInt32, key: Int32, parent: Int32, keying: Keying, units: Int64,
              deadline: Nanoseconds, now: Nanoseconds)
    /// Cancels the wait of `slot` now (its tokens go back to the limiter before this returns).
    func cancelWait(slot: Int32)
    /// Tokens the key's bucket holds now; `parent` (>= 0) is the key's parent, whose queue its
    /// waiters share (read through it, so a give-back pending there is settled first).
    func tokens(key: Int32, parent: Int32, keying: Keying, isParent: Bool) -> Double
}

// The core's side of the port: the few hooks the limiter calls when a port is attached.
extension FleetCore {
    /// Attaches `port` and configures every key of the current keying on it.
    mutating func attach(_ port: any AdmissionPort) {
        self.port = port
        configureAll(table)
    }

    func configureAll(_ t: KeyingTable) {
        guard let port else { return }
        for k in t.keys.indices {
            port.configure(key: Int32(k), keying: t.keying, isParent: t.keys[k].isParent, t.keys[k].bucket.configuration)
        }
    }

    /// Port mode's `enterLimiter` after the capacity check: admit at once, refuse on a full
    /// queue, or hand the wait to the port.
    mutating func enterPort(_ port: any AdmissionPort, slot: Int32, key ki: Int, parent p: Int32, requeue: Bool) {
        let s = Int(slot)
        let units = requests[s].costUnits
        if port.tryAdmit(key: Int32(ki), parent: p, keying: table.keying, units: units) {
            portPass(slot)
            return
        }
        let mk = table.keys[ki].metricsKey
        if table.keys[ki].queue.count >= queueLimit {
            let group = Int(clients[Int(requests[s].client)].group)
            if requeue { metrics.timedOut(key: mk, group: group, wasQueued: false) } else { metrics.rejected(key: mk, group: group) }
            finish(slot, .refused)
            return
        }
        requests[s].reservation = nil
        requests[s].phase = .childQueue
        requests[s].queuedChild = true
        requests[s].requeued = requeue
        metrics.enqueued(key: mk)
        table.keys[ki].queue.append(slot)
        port.wait(slot: slot, gen: requests[s].gen, key: Int32(ki), parent: p, keying: table.keying, units: units,
                  deadline: requests[s].deadline, now: now)
    }

    /// The limiter admitted the request now: the replay buckets take its cost, the parent
    /// counts it (admitted at once there: the library admits both levels together), and it
    /// goes upstream.
    mutating func portPass(_ slot: Int32) {
        let s = Int(slot)
        let units = requests[s].costUnits
        let ck = requests[s].childKey
        catchUp(ck)
        _ = table.keys[Int(ck)].bucket.reserve(units: units, at: now)
        let p = requests[s].parentKey
        if p >= 0 {
            catchUp(p)
            _ = table.keys[Int(p)].bucket.reserve(units: units, at: now)
            metrics.arrived(key: table.keys[Int(p)].metricsKey, group: -1)
            requests[s].parentStart = now
        }
        admitFinally(slot)
    }

    /// A waiting task was admitted (at the driver's `now`). False when the request is no
    /// longer that wait (moved or finished since): the driver gives the tokens back.
    mutating func portAdmitted(slot: Int32, gen: UInt32) -> Bool {
        let s = Int(slot)
        guard requests[s].gen == gen, requests[s].phase == .childQueue else { return false }
        let ck = requests[s].childKey
        catchUp(ck)
        removeFromQueue(slot, key: Int(ck))
        portPass(slot)
        return true
    }

    /// A waiting task was refused by its limiter: `atOnce` (its deadline could not be met when
    /// it arrived: rejected, as the in-core limiter refuses before queueing) or after a re-plan
    /// (timed out).
    mutating func portRefused(slot: Int32, gen: UInt32, atOnce: Bool) {
        let s = Int(slot)
        guard requests[s].gen == gen, requests[s].phase == .childQueue else { return }
        let ck = requests[s].childKey
        catchUp(ck)
        removeFromQueue(slot, key: Int(ck))
        let mk = table.keys[Int(ck)].metricsKey
        let group = Int(clients[Int(requests[s].client)].group)
        if atOnce && !requests[s].requeued {
            metrics.dequeued(key: mk)
            metrics.rejected(key: mk, group: group)
        } else {
            metrics.timedOut(key: mk, group: group, wasQueued: true)
        }
        finish(slot, .refused)
    }
}
