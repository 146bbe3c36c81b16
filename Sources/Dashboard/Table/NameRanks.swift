import Fleet
import Synchronization

/// Each key's place in natural order, remembered between frames: names change only when keys
/// come or go (a keying switch), so the 10,000-name natural sort runs once per key set, and each
/// frame's sort compares integers.
///
/// ```swift
/// let ranks = NameRanks()
/// let r = ranks.ranks(for: snapshot.keys)   // r[i]: position of keys[i].key in natural order
/// ```
public final class NameRanks: Sendable {
    private let cache = Mutex<(names: [String], ranks: [Int])>(([], []))

    public init() {}

    /// - Complexity: O(n) when the names are the ones of the last call, O(n log n) otherwise.
    public func ranks(for keys: [KeySnapshot]) -> [Int] {
        cache.withLock { cache in
            if cache.names.count == keys.count, zip(cache.names, keys).allSatisfy({ $0 == $1.key }) { return cache.ranks }
            let ranks = NameRanks.compute(keys)
            cache = (keys.map(\.key), ranks)
            return ranks
        }
    }

    static func compute(_ keys: [KeySnapshot]) -> [Int] {
        let order = keys.indices.sorted { NaturalOrder.less(keys[$0].key, keys[$1].key) }
        var ranks = Array(repeating: 0, count: keys.count)
        for (rank, i) in order.enumerated() { ranks[i] = rank }
        return ranks
    }
}
