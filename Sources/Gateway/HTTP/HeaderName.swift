/// Case-insensitive checks of HTTP field names, on their UTF-8 bytes: no lowercased copy per
/// field (these run for every field of every request and answer the gateway relays).
enum HeaderName {
    /// Fields that belong to one connection, not to the request or answer.
    static let hopByHop: [[UInt8]] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
                                      "upgrade", "host", "content-length", "proxy-authenticate", "proxy-authorization"]
        .map { Array($0.utf8) }
    /// Request fields not sent upstream: the hop-by-hop ones, `accept-encoding` (plain bodies,
    /// so usage can be read) and `expect` (the whole body is sent at once).
    static let notForwarded: [[UInt8]] = hopByHop + ["accept-encoding", "expect"].map { Array($0.utf8) }
    static let rateLimitExact: [[UInt8]] = ["ratelimit", "ratelimit-policy"].map { Array($0.utf8) }
    static let rateLimitPrefix = Array("x-ratelimit-".utf8)
    static let applicationJSON = Array("application/json".utf8)

    /// Whether `name` is `lower` (given in lower case), ignoring ASCII case.
    static func equals(_ name: UnsafeBufferPointer<UInt8>, _ lower: [UInt8]) -> Bool {
        guard name.count == lower.count else { return false }
        for i in 0..<lower.count where name[i] | 0x20 != lower[i] && name[i] != lower[i] { return false }
        return true
    }

    static func isAny(_ name: String, of list: [[UInt8]]) -> Bool {
        var name = name
        return name.withUTF8 { bytes in list.contains { equals(bytes, $0) } }
    }

    static func isHopByHop(_ name: String) -> Bool { isAny(name, of: hopByHop) }

    static func isNotForwarded(_ name: String) -> Bool { isAny(name, of: notForwarded) }

    /// `x-ratelimit-*`, `ratelimit`, `ratelimit-policy`: the gateway's own replace the upstream's.
    static func isRateLimitField(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            if bytes.count > rateLimitPrefix.count,
               equals(UnsafeBufferPointer(rebasing: bytes[..<rateLimitPrefix.count]), rateLimitPrefix) { return true }
            return rateLimitExact.contains { equals(bytes, $0) }
        }
    }

    /// `application/json` (any case, parameters allowed), without a lowercased copy.
    static func isJSON(_ contentType: String) -> Bool {
        var type = contentType
        return type.withUTF8 { bytes in
            bytes.count >= applicationJSON.count && equals(UnsafeBufferPointer(rebasing: bytes[..<applicationJSON.count]), applicationJSON)
        }
    }

    /// Whether an upstream answer's field is relayed to the client.
    static func isRelayed(_ name: String) -> Bool { !isHopByHop(name) && !isRateLimitField(name) }
}
