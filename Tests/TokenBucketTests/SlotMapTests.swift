import Testing
@testable import TokenBucket

@Suite("SlotMap (the keyed registry's table)")
struct SlotMapTests {
    @Test("random inserts, removals and sweeps agree with a Dictionary")
    func agreesWithDictionary() {
        var g = SeededGenerator(seed: 5)
        var map = SlotMap<Int>()
        var model: [Int: Int128] = [:]
        for step in 0..<60_000 {
            let key = Int(g.next() % 3_000)
            switch g.next() % 10 {
            case 0..<5:
                if let i = map.index(forKey: key) {
                    map.entries[i].tat += 1
                    model[key]! += 1
                } else {
                    map.insertNew(key, Int128(step))
                    model[key] = Int128(step)
                }
            case 5..<9:
                map.removeValue(forKey: key)
                model[key] = nil
            default:
                if step % 97 == 0 {
                    let threshold = Int128(g.next() % 60_000)
                    map.retain { $0 >= threshold }
                    model = model.filter { $0.value >= threshold }
                }
            }
            if map.count != model.count { Issue.record("step \(step): count \(map.count) vs \(model.count)"); return }
        }
        for key in 0..<3_000 { #expect(map[key] == model[key]) }
        #expect(Set(map.keys) == Set(model.keys))
        #expect(map.entries.count <= SlotMap<Int>.capacity(for: map.count) * 2)
    }

    @Test func capacityStaysUnderEightyPercentFull() {
        #expect(SlotMap<Int>.capacity(for: 100_000) == 131_072)
        #expect(SlotMap<Int>.capacity(for: 1_000_000) == 2_097_152)     // 32 B × 2 Mi: 67 B per key
        #expect(MemoryLayout<SlotMap<String>.Entry>.stride == 32)
    }
}
