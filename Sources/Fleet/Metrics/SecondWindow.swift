/// Counts per whole second over the last `seconds` seconds, for "per minute" gauges and the
/// 429 rate. Slots are cleared lazily when time reaches them again.
struct SecondWindow: Sendable {
    private var slotSecond: ContiguousArray<Int64>
    private var slotValue: ContiguousArray<Double>

    init(seconds: Int) {
        slotSecond = ContiguousArray(repeating: .min, count: seconds)
        slotValue = ContiguousArray(repeating: 0, count: seconds)
    }

    @inline(__always)
    mutating func add(_ v: Double, at t: Int64) {
        let sec = t / 1_000_000_000
        let i = Int(sec % Int64(slotSecond.count))
        if slotSecond[i] != sec { slotSecond[i] = sec; slotValue[i] = 0 }
        slotValue[i] += v
    }

    /// Sum over the `seconds` whole seconds ending with the one containing `t`.
    func sum(at t: Int64) -> Double {
        let sec = t / 1_000_000_000
        let n = Int64(slotSecond.count)
        var s = 0.0
        for i in 0..<slotSecond.count where slotSecond[i] > sec - n && slotSecond[i] <= sec { s += slotValue[i] }
        return s
    }
}
