// The three exact states as ledgers of the one waiting engine (``WaitQueue``).

extension BucketState: WaitLedger {
    @usableFromInline typealias Claim = Int64
    @usableFromInline typealias Hold = Reservation

    @usableFromInline func refusal(_ units: Int64) -> BucketError? {
        units <= gcra.capacityUnits ? nil
            : .costExceedsCapacity(cost: TokenUnits.tokens(units), capacity: configuration.capacity)
    }

    @usableFromInline var timeFloor: Nanoseconds { lastSeen }

    @usableFromInline func admission(_ units: Int64, at t: Nanoseconds, notBefore: Nanoseconds) -> Nanoseconds {
        admissionTime(units: units, at: t, notBefore: notBefore)
    }

    @usableFromInline mutating func reserve(_ units: Int64, at t: Nanoseconds, notBefore: Nanoseconds) -> Reservation {
        reserve(units: units, at: t, notBefore: notBefore)
    }

    @usableFromInline func admitAt(_ hold: Reservation) -> Nanoseconds { hold.admitAt }

    @usableFromInline mutating func rollBack(_ hold: inout Reservation) -> Bool { rollBackTail(&hold) }

    @usableFromInline func units(_ claim: Int64) -> Int64 { claim }

    @usableFromInline static var hasLane: Bool { true }
}

/// What a waiter of ``KeyedBuckets`` asks for: `units` from the key's bucket and, when named,
/// from the parent's.
@usableFromInline
struct KeyedClaim<Key: Hashable & Sendable>: Sendable {
    let key: Key
    let parent: Key?
    let units: Int64
}

extension KeyedBucketState: WaitLedger {
    @usableFromInline typealias Claim = KeyedClaim<Key>
    @usableFromInline typealias Hold = KeyedReservation<Key>

    @usableFromInline func refusal(_ claim: KeyedClaim<Key>) -> BucketError? {
        let cost = TokenUnits.tokens(claim.units)
        do {
            try KeyedBucketState.check(claim.units, cost: cost, children.slot(claim.key).gcra)
            if let parent = claim.parent { try KeyedBucketState.check(claim.units, cost: cost, try parentSlot(parent).gcra) }
            return nil
        } catch {
            return error as? BucketError
        }
    }

    @usableFromInline var timeFloor: Nanoseconds { lastSeen }

    @usableFromInline func admission(_ claim: KeyedClaim<Key>, at t: Nanoseconds, notBefore: Nanoseconds) -> Nanoseconds {
        admissionTime(units: claim.units, key: claim.key, parent: claim.parent, at: t, notBefore: notBefore)
    }

    @usableFromInline mutating func reserve(_ claim: KeyedClaim<Key>, at t: Nanoseconds, notBefore: Nanoseconds) -> KeyedReservation<Key> {
        reserve(units: claim.units, for: claim.key, parent: claim.parent, at: t, notBefore: notBefore)
    }

    @usableFromInline func admitAt(_ hold: KeyedReservation<Key>) -> Nanoseconds { hold.admitAt }

    @usableFromInline mutating func rollBack(_ hold: inout KeyedReservation<Key>) -> Bool { rollBackTail(&hold) }

    @usableFromInline func units(_ claim: KeyedClaim<Key>) -> Int64 { claim.units }
}

extension LLMLimiterState: WaitLedger {
    @usableFromInline typealias Claim = LLMRequest
    @usableFromInline typealias Hold = LLMReservation

    @usableFromInline func refusal(_ request: LLMRequest) -> BucketError? {
        do {
            _ = try validatedCosts(request)
            return nil
        } catch {
            return error as? BucketError
        }
    }

    @usableFromInline var timeFloor: Nanoseconds { buckets.values.map(\.lastSeenTime).max() ?? .min }

    @usableFromInline func admission(_ request: LLMRequest, at t: Nanoseconds, notBefore: Nanoseconds) -> Nanoseconds {
        admissionTime(costs: (try? validatedCosts(request)) ?? [], at: t, notBefore: notBefore)
    }

    @usableFromInline mutating func reserve(_ request: LLMRequest, at t: Nanoseconds, notBefore: Nanoseconds) -> LLMReservation {
        // The engine reserves only after `refusal` said the request fits, so the costs are there.
        reserve(request, costs: (try? validatedCosts(request)) ?? [], at: t, notBefore: notBefore)
    }

    @usableFromInline func admitAt(_ hold: LLMReservation) -> Nanoseconds { hold.admitAt }

    @usableFromInline mutating func rollBack(_ hold: inout LLMReservation) -> Bool { rollBackTail(&hold) }

    @usableFromInline func units(_ request: LLMRequest) -> Int64 { Int64(request.estimatedTokens) * TokenUnits.perToken }
}
