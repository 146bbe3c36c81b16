import ArgumentParser
import Fleet
import TokenBucket
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a request log through a token bucket and print when each request is admitted.",
        discussion: """
        Input: CSV lines `time_s,key,cost`: seconds, 0 to 1e9, non-decreasing; any key (quote it as in CSV \
        to include commas: "a,b", with "" for a quote); cost in tokens, 1e-9 to 1e12. Numbers are read \
        exactly and rounded once to the nearest nanosecond or nano-token, halves up (0.0000000015 and \
        15e-10 are both 2 ns). A header line is optional; blank lines and lines starting with # are \
        skipped; a UTF-8 byte-order mark is ignored.
        Output: `time_s,key,cost,admit_s,wait_s`, one line per request in input order, times with nine \
        decimals. A cost above capacity is never admitted: it gets `rejected` and the replay goes on. \
        An admission past 2^63 ns (292 years) is not representable: the replay stops there with a message.
        Malformed input stops with `line N: column: message` on standard error and exit status 2.
        --per-key holds only the keys whose bucket is not full again (lossless: a full bucket is a new \
        one), so memory stays flat however many distinct keys the log has.

        Example: printf '0,a,5\\n0,a,5\\n0,b,1\\n' | bucketscope replay --capacity 5 --refill 1
        """)

    @Option(parsing: .unconditional, help: ArgumentHelp("Bucket capacity, \(InputLimits.capacity).", valueName: "tokens"))
    var capacity: Double

    @Option(parsing: .unconditional, help: ArgumentHelp("Refill, \(InputLimits.refill).", valueName: "tokens/s"))
    var refill: Double

    @Flag(help: "One bucket per key (default: all requests share one bucket).")
    var perKey = false

    @Flag(help: "Print a per-key table (requests, rejected, wait p50/p99/max) instead of the rows.")
    var summary = false

    @Argument(help: "CSV file to read (default: standard input).")
    var file: String?

    func validate() throws {
        try FlagCheck.number(capacity, "--capacity", InputLimits.capacity)
        try FlagCheck.number(refill, "--refill", InputLimits.refill)
    }

    func run() throws {
        let config = try BucketConfiguration(capacity: capacity, refillPerSecond: refill)
        var fd: Int32 = 0
        if let file, file != "-" {
            fd = open(file, O_RDONLY)
            guard fd >= 0 else {
                throw CommandFailure("cannot open \(file): \(String(cString: strerror(errno)))")
            }
        }
        defer { if fd != 0 { close(fd) } }
        try ReplayCommand.replay(configuration: config, perKey: perKey, summary: summary, input: fd, output: writeAll)
    }

    /// Streams `input` through the replayer, handing output to `output` in chunks of about
    /// 64 KiB. Throws ``ReplayError`` for malformed input, after flushing the rows before it.
    static func replay(configuration: BucketConfiguration, perKey: Bool, summary: Bool, input fd: Int32,
                       output: ([UInt8]) throws -> Void) throws {
        var replayer = Replayer(configuration: configuration, perKey: perKey, summary: summary)
        var reader = LineReader(fd: fd)
        var out = summary ? [] : Replayer.header
        out.reserveCapacity(1 << 17)
        do {
            while try reader.next({ line, number in
                try replayer.process(line: line, number: number, into: &out)
            }) != nil {
                if out.count >= 1 << 16 {
                    try output(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
        } catch let error as ReplayError {
            try? output(out)
            throw error
        }
        if summary { out.append(contentsOf: replayer.summaryTable().utf8) }
        try output(out)
    }
}

/// Writes bytes to standard output, all of them, retrying short writes.
func writeAll(_ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, bytes.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            throw CommandFailure("cannot write output: \(String(cString: strerror(errno)))")
        }
        offset += n
    }
}
