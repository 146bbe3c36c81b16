import NIOCore

/// An `http://` upstream base URL, parsed once: where ``UpstreamPool`` connects and what it
/// puts in front of each request's path. `https://` (and anything else) is not a target: those
/// go through AsyncHTTPClient, which speaks TLS.
struct UpstreamTarget: Sendable, Equatable {
    /// Host name or IP literal to connect to (IPv6 without brackets).
    var host: String
    var port: Int
    /// The `Host` field: `host` or `host:port` as the URL had it.
    var hostField: String
    /// Path prefix without a trailing slash (`""` for none): `http://h/proxy/` sends
    /// `/v1/models` as `/proxy/v1/models`.
    var pathPrefix: String
    /// The resolved address when `host` is an IP literal (no resolver on the hot path).
    var address: SocketAddress?

    /// nil for anything but a plain `http://host[:port][/prefix]` URL.
    init?(url: String) {
        guard url.lowercased().hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        var path = String(rest[authorityEnd...])
        guard !authority.isEmpty, !authority.contains("@"), !path.contains("?"), !path.contains("#") else { return nil }
        while path.hasSuffix("/") { path.removeLast() }
        var host: String
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = authority
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = host
        self.port = port
        hostField = authority
        pathPrefix = path
        address = try? SocketAddress(ipAddress: host, port: port)
    }
}
