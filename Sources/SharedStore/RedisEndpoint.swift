/// Where Redis listens, from a `redis://host:port` address.
///
/// ```swift
/// let endpoint = try RedisEndpoint("redis://127.0.0.1:6390")   // host 127.0.0.1, port 6390
/// ```
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `redis://host[:port]` (port 6379 when omitted). User names, passwords, database
    /// numbers and TLS (`rediss://`) are not supported and are refused with a message.
    public init(_ address: String) throws(RedisAddressError) {
        guard address.hasPrefix("redis://") else {
            throw RedisAddressError("store address must start with redis://, got \"\(address)\"")
        }
        var rest = Substring(address.dropFirst("redis://".count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("@"), !rest.contains("/") else {
            throw RedisAddressError("store address takes only host and port (redis://host:port), got \"\(address)\"")
        }
        var host = rest
        var port = 6379
        if rest.hasPrefix("[") {   // [::1]:6379
            guard let close = rest.firstIndex(of: "]") else { throw RedisAddressError("unclosed [ in \"\(address)\"") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw RedisAddressError("store port must be 1...65535 in \"\(address)\"")
                }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw RedisAddressError("store port must be 1...65535 in \"\(address)\"")
            }
            port = p
        }
        guard !host.isEmpty else { throw RedisAddressError("store address has no host: \"\(address)\"") }
        self.host = String(host)
        self.port = port
    }

    public var description: String { "redis://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// A store address that cannot be used, with a message for the user.
public struct RedisAddressError: Error, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
