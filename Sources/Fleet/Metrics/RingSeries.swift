/// A fixed-size ring of samples for charts: appending never allocates once full.
///
/// ```swift
/// var r = RingSeries(capacity: 3)
/// for x in 1...5 { r.append(Double(x)) }
/// r.values          // [3, 4, 5], oldest first
/// ```
public struct RingSeries: Sendable {
    private var storage: ContiguousArray<Float>
    private var head = 0        // index of the oldest sample when full
    public private(set) var count = 0
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        storage = ContiguousArray(repeating: 0, count: capacity)
    }

    /// - Complexity: O(1).
    @inline(__always)
    public mutating func append(_ value: Double) {
        if count < capacity {
            storage[(head + count) % capacity] = Float(value)
            count += 1
        } else {
            storage[head] = Float(value)
            head = (head + 1) % capacity
        }
    }

    /// Samples, oldest first.
    /// - Complexity: O(capacity).
    public var values: [Double] {
        var out: [Double] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(Double(storage[(head + i) % capacity])) }
        return out
    }

    public var last: Double? { count == 0 ? nil : Double(storage[(head + count - 1) % capacity]) }

    /// Mean of the last `n` samples (fewer when there are fewer).
    public func meanOfLast(_ n: Int) -> Double {
        let k = Swift.min(n, count)
        guard k > 0 else { return 0 }
        var s = 0.0
        for i in (count - k)..<count { s += Double(storage[(head + i) % capacity]) }
        return s / Double(k)
    }
}
