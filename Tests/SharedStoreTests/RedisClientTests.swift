import RedisTestServer
import NIOCore
import NIOPosix
import SharedStore
import Testing

/// A TCP server that accepts connections and never answers: every call to it must time out.
final class SilentServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init() throws {
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func close() { channel.close(promise: nil) }
}

@Suite("RESP client: pipelining, timeouts, reconnect (real redis-server)")
struct RedisClientTests {
    @Test("1,000 concurrent calls pipelined on one connection each get their own reply")
    func pipelinedRepliesMatchInOrder() async throws {
        let client = RedisServer.shared.client(connections: 1)
        defer { client.shutdown() }
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for i in 0..<1_000 {
                group.addTask { (i, try await client.send(["ECHO", "v\(i)"]).string) }
            }
            for try await (i, reply) in group { #expect(reply == "v\(i)") }
        }
        #expect(client.statistics.connects == 1)
    }

    @Test("error replies are values; the connection stays usable")
    func errorReplyIsAValue() async throws {
        let client = RedisServer.shared.client(connections: 1)
        defer { client.shutdown() }
        let reply = try await client.send(["NOSUCHCOMMAND"])
        guard case .error(let message) = reply else { Issue.record("expected an error reply, got \(reply)"); return }
        #expect(message.hasPrefix("ERR"))
        #expect(try await client.send(["PING"]) == .simple("PONG"))
    }

    @Test("a server that never answers: the call fails after its timeout, never hangs, and the connection is replaced")
    func timeoutOnSilentServer() async throws {
        let silent = try SilentServer()
        defer { silent.close() }
        // Connecting may take long on a loaded machine; only the command must time out.
        let client = RedisClient(RedisClientConfiguration(endpoint: RedisEndpoint(host: "127.0.0.1", port: silent.port),
                                                          connections: 1, connectTimeout: .seconds(30), commandTimeout: .milliseconds(100)))
        defer { client.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: RedisError.timeout(milliseconds: 100)) { try await client.send(["PING"]) }
        // Calls pipelined behind the late one fail too (their order can no longer be trusted).
        await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        #expect(clock.now - start < .seconds(300), "no hang (a starved 2-core machine has taken 70 s to run this; never stuck)")
        #expect(client.statistics.connects == 2, "the timed-out connection was dropped and a new one made")
        #expect(client.statistics.timeouts == 2)
    }

    @Test("real time: a paused Redis (CLIENT PAUSE): the call times out, and the next one after the pause succeeds")
    func timeoutWhilePaused() async throws {
        let server = RedisServer.start()
        defer { server.stop() }
        let admin = server.client(connections: 1)
        let client = RedisClient(RedisClientConfiguration(endpoint: server.endpoint, connections: 1, connectTimeout: .seconds(30),
                                                          commandTimeout: .milliseconds(300)))
        defer { admin.shutdown(); client.shutdown() }
        #expect(try await client.send(["PING"], timeout: .seconds(2)) == .simple("PONG"))
        // The PING must reach Redis while it is paused. A machine too slow to send it within the
        // pause gets its answer after the pause instead: then try again with a longer pause
        // (1.5 s, 6 s, 24 s), never a wrong verdict.
        var pauseMs = 1_500
        var pauseOver = ContinuousClock.now   // the pause begins before Redis replies OK
        for _ in 0..<3 {
            let sent = ContinuousClock.now
            #expect(try await admin.send(["CLIENT", "PAUSE", "\(pauseMs)", "ALL"]) == .simple("OK"))
            pauseOver = ContinuousClock.now + .milliseconds(pauseMs)
            do {
                _ = try await client.send(["PING"])
                #expect(ContinuousClock.now - sent >= .milliseconds(pauseMs), "answered during the pause")
                pauseMs *= 4
            } catch {
                #expect(error as? RedisError == .timeout(milliseconds: 300))
                break
            }
        }
        try await Task.sleep(until: pauseOver, clock: .continuous)   // real time: the pause ends
        #expect(try await client.send(["PING"]) == .simple("PONG"))
    }

    @Test("nothing listening: fails at once, retries held back by the backoff, no hang")
    func refusedConnectionBacksOff() async throws {
        let port = RedisServer.freePort()
        let client = RedisClient(RedisClientConfiguration(endpoint: RedisEndpoint(host: "127.0.0.1", port: port),
                                                          connections: 1, initialBackoff: .seconds(300), maximumBackoff: .seconds(300)))
        defer { client.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: (any Error).self) { try await client.send(["PING"]) }
        await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        // Generous: a starved 2-core machine has taken 5 s to deliver a refused connect.
        #expect(clock.now - start < .seconds(120), "neither call waited out the 300 s backoff")
        #expect(client.statistics.connectFailures == 1, "the second call did not try again during the backoff")
    }

    @Test("real time: Redis restarted: calls fail fast while it is down, and succeed again once it is back")
    func reconnectsAfterRestart() async throws {
        let port = RedisServer.freePort()
        var server = RedisServer.start(port: port)
        let client = RedisClient(RedisClientConfiguration(endpoint: server.endpoint, connections: 2, connectTimeout: .seconds(30),
                                                          commandTimeout: .milliseconds(200)))
        defer { client.shutdown() }
        #expect(try await client.send(["SET", "k", "1"], timeout: .seconds(30)) == .simple("OK"))
        server.stop()
        let clock = ContinuousClock()
        for _ in 0..<5 {
            let start = clock.now
            await #expect(throws: (any Error).self) { try await client.send(["PING"]) }
            // Refused at once (timeouts 200 ms); the bound only catches a hang on a loaded machine.
            #expect(clock.now - start < .seconds(30))
        }
        server = RedisServer.start(port: port)
        defer { server.stop() }
        let back = clock.now
        var answered = false
        // Back within the backoff on an idle machine; the 60 s bound only catches a client that
        // never connects again.
        while clock.now - back < .seconds(60) {
            if (try? await client.send(["PING"])) == .simple("PONG") { answered = true; break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(answered, "not recovered after \(clock.now - back)")
    }
}
