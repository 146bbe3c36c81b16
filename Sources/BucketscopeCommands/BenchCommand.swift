import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One benchmark figure, printed as one JSON object per line.
struct BenchResult: Sendable {
    var name: String
    var value: Double
    var unit: String
    /// The goal, for the table (not printed in JSON).
    var goal: String = ""

    var json: String {
        "{\"name\":\"\(name)\",\"value\":\(BenchResult.format(value)),\"unit\":\"\(unit)\"}"
    }

    static func format(_ v: Double) -> String {
        if v >= 1000 { return String(Int64(v.rounded())) }
        let scaled = (v * 1000).rounded() / 1000
        return String(scaled)
    }
}

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the library, replay and the simulator (use a release build).",
        discussion: """
        Build first with `swift build -c release`, then run `.build/release/bucketscope bench --json`. \
        Each figure is printed as it is measured. A debug build runs, but its figures mean nothing.
        """)

    @Flag(help: "One JSON object per line: {\"name\", \"value\", \"unit\"}.")
    var json = false

    @Option(help: "Run only the benchmarks whose name contains this text.")
    var filter: String?

    @Flag(help: .hidden)
    var inProcess = false

    func validate() throws {
        if let filter, !Benchmarks.all.contains(where: { $0.name.contains(filter) }) {
            throw ValidationError("--filter: no benchmark's name contains \"\(filter)\" (names: "
                                  + Benchmarks.all.map(\.name).joined(separator: ", ") + ")")
        }
    }

    func run() async throws {
        #if DEBUG
        printError("bench: this is a debug build; build with `swift build -c release` for real figures")
        #endif
        if !json {
            print(pad("name", 34) + pad("value", 14, right: true) + "  " + pad("unit", 26) + "goal")
        }
        for bench in Benchmarks.all where filter.map({ bench.name.contains($0) }) ?? true {
            let results = bench.isolated && !inProcess ? try runIsolated(bench.name) : try await bench.run()
            for result in results {
                if json {
                    print(result.json)
                } else {
                    print(pad(result.name, 34) + pad(BenchResult.format(result.value), 14, right: true) + "  "
                          + pad(result.unit, 26) + result.goal)
                }
                fflushStdout()
            }
        }
    }

    /// Runs one benchmark in a child process (`bench --json --in-process --filter NAME`).
    private func runIsolated(_ name: String) throws -> [BenchResult] {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["bench", "--json", "--in-process", "--filter", name]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        guard child.terminationStatus == 0 else {
            throw CommandFailure("bench: \(name) failed in its child process (status \(child.terminationStatus))")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let n = object["name"] as? String, let v = object["value"] as? Double, let u = object["unit"] as? String
            else { return nil }
            return BenchResult(name: n, value: v, unit: u, goal: Benchmarks.goals[n] ?? "")
        }
    }

    private func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return right ? fill + s : s + fill
    }
}

func fflushStdout() { fflush(nil) }

/// A named group of measurements.
struct Benchmark: Sendable {
    var name: String
    /// Memory figures run in a fresh child process, so earlier benchmarks' heap does not
    /// hide or inflate them.
    var isolated = false
    var run: @Sendable () async throws -> [BenchResult]
}

// MARK: Measurement helpers

/// Nanoseconds on the monotonic clock.
@inline(__always)
func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Resident set size of this process now, in bytes (from /proc/self/statm).
func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 128)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
    guard n > 0 else { return 0 }
    let fields = buf[0..<n].split(separator: UInt8(ascii: " "))
    guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Hands free heap pages back to the system (glibc's `malloc_trim`, found at run time), so a
/// resident-size figure counts what is held, not what was freed while a table grew.
func releaseFreeHeapPages() {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return }
    typealias Trim = @convention(c) (Int) -> Int32
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
}

/// The best (lowest) of `rounds` timings of `body`, in ns per operation.
func nanosPerOp(operations: Int, rounds: Int = 5, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = monotonicNanos()
        try body()
        let elapsed = monotonicNanos() - start
        best = min(best, Double(elapsed) / Double(operations))
    }
    return best
}

/// A small fast deterministic generator for benchmark inputs (SplitMix64).
struct BenchRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Keeps a value alive and opaque to the optimiser.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }
