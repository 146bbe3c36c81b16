import Synchronization

/// A Lua script run with `EVALSHA`, loaded on first use and again whenever the server has
/// lost it (`NOSCRIPT` after a restart, a failover or `SCRIPT FLUSH`).
///
/// ```swift
/// let script = RedisScript("return ARGV[1]")
/// try await script.run(on: client, keys: [], arguments: ["hi"])   // .bulk("hi")
/// ```
public final class RedisScript: Sendable {
    public let source: String
    private let sha = Mutex<String?>(nil)

    public init(_ source: String) { self.source = source }

    /// Runs the script; an error reply other than `NOSCRIPT` is thrown as
    /// ``RedisError/server(_:)``.
    /// - Complexity: one round trip, three after the server has lost the script.
    public func run(on client: RedisClient, keys: [String], arguments: [String], timeout: Duration? = nil) async throws -> RESPValue {
        let known = sha.withLock { $0 }
        let digest: String
        if let known { digest = known } else { digest = try await load(on: client, timeout: timeout) }
        let command = ["EVALSHA", digest, String(keys.count)] + keys + arguments
        var reply = try await client.send(command, timeout: timeout)
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            var again = command
            again[1] = try await load(on: client, timeout: timeout)
            reply = try await client.send(again, timeout: timeout)
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    private func load(on client: RedisClient, timeout: Duration?) async throws -> String {
        let reply = try await client.send(["SCRIPT", "LOAD", source], timeout: timeout)
        if case .error(let message) = reply { throw RedisError.server(message) }
        guard let digest = reply.string, digest.count == 40 else {
            throw RedisError.unexpectedReply("SCRIPT LOAD answered \(reply)")
        }
        sha.withLock { $0 = digest }
        return digest
    }
}
