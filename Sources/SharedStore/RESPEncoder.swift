import NIOCore

/// Writes commands in the form every Redis version accepts: an array of bulk strings
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`).
///
/// ```swift
/// var out = ByteBuffer()
/// RESPEncoder.encode(["PING"], into: &out)     // "*1\r\n$4\r\nPING\r\n"
/// ```
public enum RESPEncoder {
    /// Appends one command (name and arguments) to `buffer`.
    /// - Complexity: O(total bytes of the arguments).
    public static func encode(_ command: [String], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(command.count))
        buffer.writeStaticString("\r\n")
        for argument in command {
            let bytes = argument.utf8
            buffer.writeStaticString("$")
            buffer.writeString(String(bytes.count))
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(bytes)
            buffer.writeStaticString("\r\n")
        }
    }
}
