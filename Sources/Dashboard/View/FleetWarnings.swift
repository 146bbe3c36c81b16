import Fleet

/// Things wrong with the fleet that a person should be told without asking: shown in the status
/// line when no message is.
enum FleetWarnings {
    /// Fewest requests before a group refused every time is called out (a first refusal may be
    /// a deadline, not a size problem).
    static let minimumRequests = 5

    /// The fleet's own `FleetSnapshot.warnings` first, then the derived ones about other groups.
    static func all(_ snapshot: FleetSnapshot) -> [String] {
        let named = snapshot.groups.map(\.name).filter { g in snapshot.warnings.contains { $0.contains("`\(g)`") } }
        return snapshot.warnings + derived(snapshot).filter { w in !named.contains { w.hasPrefix("every \($0) request") } }
    }

    /// A group whose every request was refused by buckets that all refused everything: the
    /// usual cause is a cost above the bucket's capacity (LLM costs of thousands of tokens
    /// against a capacity of 20), which no wait can fix.
    /// - Complexity: O(groups) in the usual case; O(keys) only while some group is refused
    ///   every time (then its keys' capacities are looked up).
    static func derived(_ snapshot: FleetSnapshot) -> [String] {
        let suspects = snapshot.groups.filter { $0.requests >= minimumRequests && $0.rejected == $0.requests }
        guard !suspects.isEmpty else { return [] }
        let names = Set(suspects.map(\.name))
        var capacities: [String: Double] = [:]
        var allRefused: [String: Bool] = [:]
        for k in snapshot.keys where k.requests > 0 && names.contains(k.group) {
            capacities[k.group] = max(capacities[k.group] ?? 0, k.capacity)
            allRefused[k.group, default: true] = allRefused[k.group, default: true] && k.rejected == k.requests
        }
        return suspects.compactMap { group in
            guard allRefused[group.name] == true, let capacity = capacities[group.name] else { return nil }
            return "every \(group.name) request refused (\(group.rejected) of \(group.requests)): "
                + "a cost above the bucket's capacity \(Format.compact(capacity)) is never admitted"
        }
    }
}
