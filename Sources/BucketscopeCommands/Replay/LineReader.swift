#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file descriptor in large chunks and hands out one line at a time, so a file of any
/// length is processed in constant memory (one chunk plus the longest line).
struct LineReader {
    private let fd: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var eof = false
    /// 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init(fd: Int32, chunkSize: Int = 1 << 16) {
        self.fd = fd
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    /// Calls `body` with the next line (without its `\n` or `\r\n`) and its 1-based number;
    /// returns nil at the end.
    mutating func next<R>(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> R) throws -> R? {
        while true {
            if let nl = findNewline() {
                lineNumber += 1
                var lineEnd = nl
                if lineEnd > start, buffer[lineEnd - 1] == 13 { lineEnd -= 1 }
                let s = start
                start = nl + 1
                return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[s..<lineEnd]), lineNumber) }
            }
            if eof {
                guard start < end else { return nil }
                lineNumber += 1
                var lineEnd = end
                if buffer[lineEnd - 1] == 13 { lineEnd -= 1 }
                let s = start
                start = end
                return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[s..<lineEnd]), lineNumber) }
            }
            try fill()
        }
    }

    private func findNewline() -> Int? {
        buffer.withUnsafeBufferPointer { buf in
            guard start < end, let base = buf.baseAddress else { return nil }
            guard let p = memchr(base + start, 10, end - start) else { return nil }
            return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
    }

    private mutating func fill() throws {
        // Move the partial line to the front; grow only if one line is longer than the buffer.
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { buf in
                    _ = memmove(buf.baseAddress!, buf.baseAddress! + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        let n = buffer.withUnsafeMutableBufferPointer { buf in
            read(fd, buf.baseAddress! + end, buf.count - end)
        }
        if n < 0 {
            if errno == EINTR { return }
            throw ReplayError(line: lineNumber + 1, message: "read failed: \(String(cString: strerror(errno)))")
        }
        if n == 0 { eof = true }
        end += n
    }
}
