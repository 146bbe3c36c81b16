import Testing
import TokenBucket
@testable import BucketscopeCommands
#if canImport(Glibc)
import Glibc
#endif

/// Runs `replay` over `input` from a temporary file, as the command does over a file or stdin.
func replay(_ input: String, capacity: Double, refill: Double, perKey: Bool = false,
            summary: Bool = false) throws -> String {
    var template = Array("/tmp/bucketscope-replay-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    #expect(fd >= 0)
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    defer { close(fd) }
    let bytes = Array(input.utf8)
    bytes.withUnsafeBytes { var o = 0; while o < $0.count { let n = write(fd, $0.baseAddress! + o, $0.count - o); if n <= 0 { break }; o += n } }
    lseek(fd, 0, SEEK_SET)
    var out: [UInt8] = []
    let config = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
    try ReplayCommand.replay(configuration: config, perKey: perKey, summary: summary, input: fd) { out += $0 }
    return String(decoding: out, as: UTF8.self)
}

@Suite("replay")
struct ReplayTests {
    @Test func sharedBucketHandChecked() throws {
        // Capacity 5, refill 1/s, all in one bucket.
        let out = try replay("""
            time_s,key,cost
            0,a,5
            0,a,5
            # a comment

            0.5,b,1
            1,b,7
            1.25,c,0.5
            """, capacity: 5, refill: 1)
        #expect(out == """
            time_s,key,cost,admit_s,wait_s
            0,a,5,0.000000000,0.000000000
            0,a,5,5.000000000,5.000000000
            0.5,b,1,6.000000000,5.500000000
            1,b,7,rejected,rejected
            1.25,c,0.5,6.500000000,5.250000000

            """)
    }

    @Test func perKeyBucketsAreIndependent() throws {
        let out = try replay("0,a,5\n0,a,5\n0,b,5\n0.1,b,1\n", capacity: 5, refill: 1, perKey: true)
        #expect(out == """
            time_s,key,cost,admit_s,wait_s
            0,a,5,0.000000000,0.000000000
            0,a,5,5.000000000,5.000000000
            0,b,5,0.000000000,0.000000000
            0.1,b,1,1.000000000,0.900000000

            """)
    }

    @Test func oneThirdRefillIsExactToTheNanosecond() throws {
        // 3/s: the third token after an empty bucket arrives at exactly 1 s, not 0.999999999.
        let out = try replay("0,k,1\n0,k,1\n0,k,1\n0,k,1\n", capacity: 1, refill: 3)
        #expect(out.split(separator: "\n").last == "0,k,1,1.000000000,1.000000000")
        #expect(out.contains("0,k,1,0.333333334,0.333333334"))   // rounded up, never early
    }

    @Test func quotedKeysAndCRLF() throws {
        let out = try replay("0,\"x,y\",1\r\n0,z,1\r\n", capacity: 1, refill: 1, perKey: true)
        #expect(out.contains("0,\"x,y\",1,0.000000000,0.000000000\n"))
        #expect(out.contains("0,z,1,0.000000000,0.000000000\n"))
    }

    @Test(arguments: [
        ("0,a,1\n2,a,x\n", "line 2: cost: expected a number of tokens, got \"x\""),
        ("3,a,1\n2,a,1\n", "line 2: time_s: 2 is before the previous row's 3 (rows must be in time order)"),
        ("0,a\n", "line 1: expected 3 fields (time_s,key,cost), got 2"),
        ("0,a,1,2\n", "line 1: expected 3 fields (time_s,key,cost), got 4"),
        ("abc,a,1\n", "line 1: time_s: expected a number of seconds, got \"abc\""),
        ("0,a,0\n", "line 1: cost: must be > 0, got 0 (valid: 1e-9 to 1e12 tokens)"),
        ("0,a,-1\n", "line 1: cost: must be > 0, got -1 (valid: 1e-9 to 1e12 tokens)"),
        ("-1,a,1\n", "line 1: time_s: must be >= 0, got -1 (valid: 0 to 1e9 seconds)"),
        ("time_s,key,cost\ntime_s,key,cost\n", "line 2: time_s: expected a number of seconds, got \"time_s\""),
    ])
    func malformedInputNamesTheLine(input: String, message: String) throws {
        #expect {
            _ = try replay(input, capacity: 5, refill: 1)
        } throws: { error in
            (error as? ReplayError)?.description == message
        }
    }

    @Test func summaryTable() throws {
        let out = try replay("0,a,5\n0,a,5\n0.5,b,1\n1,b,7\n", capacity: 5, refill: 1, perKey: true, summary: true)
        #expect(out == """
            key  requests  rejected  wait_p50_ms  wait_p99_ms  wait_max_ms
            a           2         0        0.000     5000.000     5000.000
            b           2         1        0.000        0.000        0.000

            """)
    }

    /// CPU-heavy (over a second in a debug build): on a thread of its own (``offPool(_:)``).
    @Test func streamsManyRowsInChunks() async throws {
        let rows = try await offPool { () throws -> Int in
            var input = ""
            for i in 0..<50_000 { input += "\(i)e-3,k\(i % 7),1\n" }   // 1 ms apart
            return try replay(input, capacity: 10, refill: 100).split(separator: "\n").count
        }
        #expect(rows == 50_001)
    }

    @Test func decimalsParseExactly() {
        #expect(ScaledDecimal.parseNano(Array("0.1".utf8)) == 100_000_000)
        #expect(ScaledDecimal.parseNano(Array("12.000000001".utf8)) == 12_000_000_001)
        #expect(ScaledDecimal.parseNano(Array("1e3".utf8)) == 1_000_000_000_000)
        #expect(ScaledDecimal.parseNano(Array("1.5E-1".utf8)) == 150_000_000)
        #expect(ScaledDecimal.parseNano(Array("0.0000000005".utf8)) == 1)
        #expect(ScaledDecimal.parseNano(Array("".utf8)) == nil)
        #expect(ScaledDecimal.parseNano(Array(".".utf8)) == nil)
        #expect(ScaledDecimal.parseNano(Array("nan".utf8)) == nil)
        #expect(ScaledDecimal.parseNano(Array("1e".utf8)) == nil)
        #expect(ScaledDecimal.parseNano(Array("99999999999".utf8)) == nil)
    }
}

