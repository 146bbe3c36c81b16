/// Where a server listens: `HOST:PORT` (`127.0.0.1:8080`, `[::1]:0`); port 0 asks the system for
/// a free port, which the server prints once it is bound.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) { self.host = host; self.port = port }

    /// Parses `HOST:PORT`; a bare `PORT` means 127.0.0.1.
    public init(parsing text: String) throws(GatewayConfigError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        var host = "127.0.0.1"
        var portText = Substring(t)
        if t.hasPrefix("["), let close = t.firstIndex(of: "]") {
            host = String(t[t.index(after: t.startIndex)..<close])
            let rest = t[t.index(after: close)...]
            guard rest.hasPrefix(":") else { throw GatewayConfigError("listen: expected [HOST]:PORT, got \"\(text)\"") }
            portText = rest.dropFirst()
        } else if let colon = t.lastIndex(of: ":") {
            host = String(t[..<colon])
            portText = t[t.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else {
            throw GatewayConfigError("listen: expected HOST:PORT with a port 0-65535, got \"\(text)\"")
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

import Foundation

/// A configuration or flag that cannot be used, with a message naming the field.
public struct GatewayConfigError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ message: String) { description = message }
}
