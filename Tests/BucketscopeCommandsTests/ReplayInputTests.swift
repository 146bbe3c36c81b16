import ArgumentParser
import Testing
import TokenBucket
@testable import BucketscopeCommands

/// The replay inputs issue 14 found trapping, answering wrongly or with misleading messages.
@Suite("replay inputs")
struct ReplayInputTests {
    func message(_ input: String, capacity: Double = 5, refill: Double = 1, perKey: Bool = false) -> String {
        do {
            _ = try replay(input, capacity: capacity, refill: refill, perKey: perKey)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func equalTimesWrittenDifferentlyAreEqual() throws {
        // Before: 15e-10 read as 1 ns and 0.0000000015 as 2 ns, so "time goes backwards".
        let out = try replay("0.0000000015,a,1\n15e-10,a,1\n1.5E-9,a,1\n", capacity: 5, refill: 1)
        #expect(out.contains("0.0000000015,a,1,0.000000002,"))
        #expect(out.contains("15e-10,a,1,0.000000002,"))
    }

    @Test(arguments: [("0.0000000015", 2), ("15e-10", 2), ("0.0000000014", 1), ("1.5e-9", 2), ("0.00000000049", 0),
                      ("2.0000000005", 2_000_000_001), ("150e-11", 2), ("1e9", 1_000_000_000_000_000_000),
                      ("0.1", 100_000_000), ("+3", 3_000_000_000), ("-0.5", -500_000_000)] as [(String, Int64)])
    func numbersRoundOnceHalfUpToTheNanoUnit(text: String, nano: Int64) {
        #expect(ScaledDecimal.parseNano(Array(text.utf8)) == nano)
    }

    @Test func numbersPastTheLimitAreTooLargeNotTrapping() {
        // Before: 9,223,372,037 to 9,999,999,999 overflowed Int64 inside the parser (SIGILL).
        for text in ["9223372037", "9999999999", "1e300", "99999999999999999999999999999999999999999999999"] {
            #expect(ScaledDecimal.parseNano(Array(text.utf8), limit: Replayer.timeLimit) == .tooLarge, "\(text)")
        }
        #expect(ScaledDecimal.parseNano(Array("1e-99999".utf8), limit: Replayer.timeLimit) == .value(0))
    }

    @Test(arguments: [
        ("9500000000,a,1\n", "line 1: time_s: must be at most 1e9 seconds (31.7 years), got 9500000000 (valid: 0 to 1e9 seconds)"),
        ("0,a,1e-12\n", "line 1: cost: must be at least 1e-9 (one nano-token, after rounding to the nearest), got 1e-12 (valid: 1e-9 to 1e12 tokens)"),
        ("0,a,1e13\n", "line 1: cost: must be at most 1e12, got 1e13 (valid: 1e-9 to 1e12 tokens)"),
        ("0,\"a\"\"b\",1,2\n", "line 1: expected 3 fields (time_s,key,cost), got 4"),
        ("0,\"a\"x,1\n", "line 1: key: expected a comma after the closing quote, got \"x\""),
        ("0,\"a,1\n", "line 1: key: unterminated quote"),
    ])
    func refusedWithLineColumnAndRange(input: String, expected: String) {
        #expect(message(input) == expected)
    }

    @Test func aQuotedKeyMayHoldDoubledQuotes() throws {
        // Before: `0,"a""b",1` said "expected 3 fields, got 3".
        let out = try replay("0,\"a\"\"b\",1\n0,\"a\"\"b\",5\n", capacity: 5, refill: 1, perKey: true)
        #expect(out.contains("0,\"a\"\"b\",5,1.000000000,1.000000000"))
    }

    @Test func aByteOrderMarkMayOpenAFileOfDataRows() throws {
        // Before: accepted before a header, refused before a numeric first row.
        let out = try replay("\u{FEFF}0,a,1\n", capacity: 5, refill: 1)
        #expect(out == "time_s,key,cost,admit_s,wait_s\n0,a,1,0.000000000,0.000000000\n")
        let withHeader = try replay("\u{FEFF}time_s,key,cost\n0,a,1\n", capacity: 5, refill: 1)
        #expect(withHeader == out)
    }

    @Test func anAdmissionPast2To63NanosecondsIsRefusedNotClamped() {
        // Capacity 10,000 refilling 1e-6/s: the second request's exact admission is 1e10 s,
        // past 2^63 ns; before, it was printed as 9223372036.854775807.
        for perKey in [false, true] {
            #expect(message("0,a,10000\n0,a,10000\n", capacity: 10_000, refill: 1e-6, perKey: perKey)
                    == "line 2: admission instant past 9223372036.854775807 s (2^63 ns, 292 years), which replay does not represent; raise --refill or lower the costs")
        }
    }

    @Test func costsAboveEveryCapacityAreRejectedRows() throws {
        // 9.5e9 tokens overflowed the nano-token count before.
        let out = try replay("0,a,9500000000\n0,a,1e12\n", capacity: 5, refill: 1)
        #expect(out == "time_s,key,cost,admit_s,wait_s\n0,a,9500000000,rejected,rejected\n0,a,1e12,rejected,rejected\n")
    }

    /// CPU-heavy (seconds in a debug build): on a thread of its own (``offPool(_:)``).
    @Test func perKeyHoldsOnlyKeysNotYetFull() async throws {
        // 100,000 distinct keys, 1 ms apart, each bucket full again 0.2 s after its request:
        // at most ~200 are held at once, however many keys the log has.
        let most = try await offPool { () throws -> Int in
            let config = try BucketConfiguration(capacity: 10, refillPerSecond: 5)
            var replayer = Replayer(configuration: config, perKey: true, summary: false)
            var out: [UInt8] = []
            var most = 0
            for i in 0..<100_000 {
                let line = Array("\(i)e-3,key-\(i),1".utf8)
                try line.withUnsafeBufferPointer { try replayer.process(line: $0, number: i + 1, into: &out) }
                most = max(most, replayer.heldKeys)
                if out.count > 1 << 16 { out.removeAll(keepingCapacity: true) }
            }
            return most
        }
        // Sweeps run when the table would double (the library's amortized eviction), so what is
        // held stays below the table's smallest size, never growing with the 100,000 keys.
        #expect(most <= 1_024)
    }

    @Test func perKeyAgreesWithOneBucketPerKey() throws {
        // The keyed state with eviction gives the same instants as separate buckets.
        var rng = SplitMix(state: 11)
        var input = ""
        var t = 0
        for _ in 0..<3_000 {
            t += Int(rng.next() % 400)
            input += "\(t)e-3,k\(rng.next() % 40),\(1 + rng.next() % 9).\(rng.next() % 1000)\n"
        }
        let perKey = try replay(input, capacity: 10, refill: 3, perKey: true)
        var expected = "time_s,key,cost,admit_s,wait_s\n"
        var buckets: [String: BucketState] = [:]
        for line in input.split(separator: "\n") {
            let f = line.split(separator: ",")
            let time = ScaledDecimal.parseNano(Array(f[0].utf8))!
            let cost = ScaledDecimal.parseNano(Array(f[2].utf8))!
            var b = try buckets[String(f[1])] ?? BucketState(capacity: 10, refillPerSecond: 3)
            let admit = b.reserve(units: cost, at: time).admitAt
            buckets[String(f[1])] = b
            var row = Array("\(line),".utf8)
            ScaledDecimal.appendNano(admit, to: &row)
            row.append(UInt8(ascii: ","))
            ScaledDecimal.appendNano(admit - time, to: &row)
            expected += String(decoding: row, as: UTF8.self) + "\n"
        }
        #expect(perKey == expected)
    }
}

/// A SplitMix64 generator for test inputs.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct WaitDistributionTests {
    @Test func percentilesAreExactForFewWaits() {
        var d = WaitDistribution()
        for w: Int64 in [5, 1, 4, 2, 3] { d.record(w * 1_000_000) }
        #expect(d.percentile(50) == 3_000_000)
        #expect(d.percentile(99) == 5_000_000)
        #expect(d.max == 5_000_000)
    }

    @Test func bucketedPercentilesAreWithinHalfAPercent() {
        var d = WaitDistribution()
        var rng = SplitMix(state: 5)
        var all: [Int64] = []
        for _ in 0..<20_000 {
            let w = Int64(rng.next() % 10_000_000_000)   // up to 10 s
            all.append(w)
            d.record(w)
        }
        all.sort()
        for p in [50.0, 90, 99, 99.9] {
            let exact = Double(all[Int((p / 100 * Double(all.count)).rounded(.up)) - 1])
            let got = Double(d.percentile(p))
            #expect(abs(got - exact) / exact <= 0.0055, "p\(p): \(got) vs \(exact)")
        }
        #expect(d.max == all.last!)
        #expect(d.count == 20_000)
    }
}

/// The command line in one style: every parse or range error is one line, names the flag, and
/// negative numbers are values.
@Suite struct CommandLineTests {
    func message(_ args: [String]) -> String {
        do {
            _ = try BucketscopeCommand.parseAsRoot(args)
            return "parsed"
        } catch {
            #expect(BucketscopeCommand.exitCode(for: error) == .validationFailure)
            return BucketscopeCommand.parserMessage(error, arguments: args)
        }
    }

    @Test(arguments: [
        (["run", "--capacity", "-1"], "--capacity must be > 0, got -1 (valid: 1e-9 to 1e9 tokens)"),
        (["run", "--refill=-3"], "--refill must be > 0, got -3 (valid: 1e-6 to 1e9 tokens per second)"),
        (["run", "--capacity", "1e300"], "--capacity must be at most 1e9, got 1e300 (valid: 1e-9 to 1e9 tokens)"),
        (["run", "--duration", "100000h"], "--duration must be at most 8760h, got 100000h (valid: 1ns to 8760h)"),
        (["run", "--duration", "0s"], "--duration must be > 0, got 0s (valid: 1ns to 8760h)"),
        (["dashboard", "--fps", "-1"], "--fps must be at least 1, got -1 (valid: 1 to 120)"),
        (["dashboard", "--speed", "-1"], "--speed must be > 0, got -1 (valid: 0.1 to 1000 times real time)"),
        (["replay", "--capacity", "-1", "--refill", "1"], "--capacity must be > 0, got -1 (valid: 1e-9 to 1e9 tokens)"),
        (["replay", "--capacity", "5", "--refill", "nan"], "--refill must be a finite number, got nan (valid: 1e-6 to 1e9 tokens per second)"),
        (["run", "--bogus"], "unknown option '--bogus' (see `bucketscope run --help`)"),
        (["replay", "--capacity"], "missing value for '--capacity <tokens>' (see `bucketscope replay --help`)"),
    ])
    func badFlagsAreOneLine(args: [String], expected: String) {
        let m = message(args)
        #expect(m == expected)
        #expect(!m.contains("\n"))
    }

    @Test("bench --filter that matches no benchmark says so and names them, instead of an empty table")
    func benchFilterMatchesNothing() {
        let m = message(["bench", "--filter", "nosuch"])
        #expect(m.hasPrefix("--filter: no benchmark's name contains \"nosuch\" (names: try_acquire, "))
        #expect(!m.contains("\n"))
        #expect(message(["bench", "--filter", "keyed_try"]) == "parsed")
    }

    /// Every duration flag, in both spellings of a value that starts with "-": the message names
    /// the flag, the value, why it is not a duration and what is accepted.
    @Test(arguments: [
        (["serve", "--mock", "--max-wait", "-3s"], "--max-wait: -3s is negative; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait=-3s"], "--max-wait: -3s is negative; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "-1"], "--max-wait: -1 is negative; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "soon"], "--max-wait: soon is not a duration; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "3x"], "--max-wait: 3x has an unknown unit \"x\"; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "2m30"], "--max-wait: 2m30 has a number without a unit (30); give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", ""], "--max-wait: \"\" is empty; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "nan"], "--max-wait: nan is not a duration; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "1e30"], "--max-wait: 1e30 is too long; give a duration from 0s to 8760h, like 500ms or 2s"),
        (["serve", "--mock", "--max-wait", "100000h"], "--max-wait must be at most 8760h, got 100000h (valid: 0s to 8760h)"),
        (["serve", "--mock", "--store", "redis://127.0.0.1:6379", "--store-timeout", "-1s"],
         "--store-timeout: -1s is negative; give a duration from 1ms to 10s, like 500ms or 2s"),
        (["serve", "--mock", "--store", "redis://127.0.0.1:6379", "--store-timeout=0s"],
         "--store-timeout must be at least 1ms, got 0s (valid: 1ms to 10s)"),
        (["serve", "--mock", "--mock-ttft", "-200ms"], "--mock-ttft: -200ms is negative; give a duration from 0s to 1h, like 500ms or 2s"),
        (["mock-upstream", "--ttft=fast"], "--ttft: fast is not a duration; give a duration from 0s to 1h, like 500ms or 2s"),
        (["run", "--duration", "-5s"], "--duration: -5s is negative; give a duration from 1ns to 8760h, like 500ms or 2s"),
        (["run", "--duration", "0s"], "--duration must be > 0, got 0s (valid: 1ns to 8760h)"),
        (["check", "--simulate", "10q"], "--simulate: 10q has an unknown unit \"q\"; give a duration from 1ns to 8760h, like 500ms or 2s"),
    ])
    func badDurationsSayWhy(args: [String], expected: String) {
        let m = message(args)
        #expect(m == expected)
        #expect(!m.contains("\n"))
    }

    @Test func aGoodDurationFlagParses() throws {
        let serve = try #require(try BucketscopeCommand.parseAsRoot(["serve", "--mock", "--max-wait", "1m30s"]) as? ServeCommand)
        #expect(serve.maxWait?.nanoseconds == 90_000_000_000)
    }
}
