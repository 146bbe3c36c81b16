import Foundation
import Testing
import TokenBucket
@testable import BucketscopeCommands

/// Property tests over replay's number parser and the replayer, with a seeded generator; each
/// prints its case count and seed (BUCKETSCOPE_FUZZ_SEED picks another).
@Suite struct ReplayPropertyTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["BUCKETSCOPE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_130

    /// The same value written as a plain decimal, with trailing zeros, or with any exponent
    /// reads as the same nano count.
    @Test func everyWayOfWritingAValueReadsTheSame() {
        var rng = SplitMix(state: Self.seed)
        let cases = 20_000
        for _ in 0..<cases {
            let nano = Int64(rng.next() % 1_000_000_000_000_000_000)   // 0 to 1e9 s
            let whole = nano / 1_000_000_000, frac = nano % 1_000_000_000
            var fracText = String(frac)
            fracText = String(repeating: "0", count: 9 - fracText.count) + fracText
            let plain = "\(whole).\(fracText)"
            let digits = String(whole) + fracText   // nano as an integer, then scaled by 10^-9
            let shift = Int(rng.next() % 12)
            let exponentForm = digits + String(repeating: "0", count: shift) + "e-\(9 + shift)"
            let padded = plain + String(repeating: "0", count: Int(rng.next() % 5))
            for text in [plain, exponentForm, padded, "+" + plain] {
                #expect(ScaledDecimal.parseNano(Array(text.utf8), limit: Replayer.timeLimit) == .value(Int128(nano)), "\(text)")
            }
        }
        print("decimal property: \(cases) values × 4 forms, seed \(Self.seed)")
    }

    /// Any bytes at all: the parser answers (value, too large or invalid) without trapping, and
    /// a value is within the limit.
    @Test func anyBytesGetAnAnswer() {
        var rng = SplitMix(state: Self.seed ^ 1)
        let alphabet = Array("0123456789.eE+-_ x\u{0}é".utf8)
        let cases = 50_000
        for _ in 0..<cases {
            let bytes = (0..<Int(rng.next() % 30)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            if case .value(let v) = ScaledDecimal.parseNano(bytes, limit: Replayer.costLimit) {
                #expect(abs(v) <= Replayer.costLimit)
            }
        }
        print("parser property: \(cases) random byte strings, seed \(Self.seed)")
    }

    /// Random logs through one shared bucket: one row out per row in, admissions in arrival
    /// order, never before the request, wait = admit − time, and a cost above capacity rejected.
    @Test func replayedRowsKeepOrderAndArithmetic() throws {
        var rng = SplitMix(state: Self.seed ^ 2)
        let logs = 300
        var rows = 0
        for _ in 0..<logs {
            let capacity = [0.5, 1, 10, 1e9][Int(rng.next() % 4)]
            let refill = [1e-6, 0.3, 3, 1e9][Int(rng.next() % 4)]
            var input = ""
            var t: Int64 = 0
            for _ in 0..<(1 + Int(rng.next() % 60)) {
                t += Int64(rng.next() % 2_000_000_000)
                input += "\(t)e-9,k\(rng.next() % 5),\(1 + rng.next() % 12).\(rng.next() % 1000)\n"
            }
            let out: String
            do {
                out = try replay(input, capacity: capacity, refill: refill)
            } catch let e as ReplayError {
                // Only the documented refusal can end a valid log: an admission past 2^63 ns.
                #expect(e.message.hasPrefix("admission instant past"), "\(e)")
                continue
            }
            let inRows = input.split(separator: "\n")
            let outRows = out.split(separator: "\n").dropFirst()
            #expect(inRows.count == outRows.count)
            var lastAdmit: Int64 = .min
            for (i, o) in zip(inRows, outRows) {
                let f = o.split(separator: ",")
                let time = ScaledDecimal.parseNano(Array(i.split(separator: ",")[0].utf8))!
                let cost = Double(i.split(separator: ",")[2])!
                if cost > capacity {
                    #expect(f[3] == "rejected")
                    continue
                }
                let admit = ScaledDecimal.parseNano(Array(f[3].utf8))!, wait = ScaledDecimal.parseNano(Array(f[4].utf8))!
                #expect(admit >= time && wait == admit - time && admit >= lastAdmit)
                lastAdmit = admit
                rows += 1
            }
        }
        print("replay property: \(logs) logs, \(rows) admitted rows, seed \(Self.seed)")
    }
}
