import Foundation
import NIOCore
import NIOPosix
import SharedStore

/// A redis-server for the tests: `BUCKETSCOPE_REDIS_URL` when set (CI), else one started here
/// on a free loopback port with persistence off, stopped when the test process exits.
/// A missing redis-server is a failure, never a skip.
public final class RedisServer: Sendable {
    public let endpoint: RedisEndpoint
    /// The redis-server started here (nil for `BUCKETSCOPE_REDIS_URL`).
    private let pid: pid_t?

    /// The server every test shares (each test uses its own key prefix).
    public static let shared: RedisServer = {
        if let url = ProcessInfo.processInfo.environment["BUCKETSCOPE_REDIS_URL"], !url.isEmpty {
            do { return RedisServer(endpoint: try RedisEndpoint(url), pid: nil) } catch {
                fatalError("BUCKETSCOPE_REDIS_URL=\(url): \(error)")
            }
        }
        return start()
    }()

    private init(endpoint: RedisEndpoint, pid: pid_t?) {
        self.endpoint = endpoint
        self.pid = pid
    }

    /// Starts a private server (for tests that stop or restart it), on `port` or a free one.
    public static func start(port: Int? = nil) -> RedisServer {
        let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            fatalError("redis-server is not installed: the SharedStore tests need it (apt-get install redis-server)")
        }
        let port = port ?? freePort()
        // redis-server runs under a shell that kills it once this test process is gone, however
        // it ends. SIGKILL: a test runner may block SIGTERM, and children inherit the mask.
        let process = Process()
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\"$0\" --port \"$1\" --bind 127.0.0.1 --save '' --appendonly no --daemonize no "
            + "--loglevel warning >/dev/null 2>&1 </dev/null & pid=$!; echo $pid; "
            + "while kill -0 $PPID 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' /proc/$PPID/status "
            + "&& kill -0 $pid 2>/dev/null; do sleep 0.2; done; kill -9 $pid 2>/dev/null",
                             path, String(port)]
        process.standardOutput = stdout
        // Never the test process's own stdin/stderr: `swift test` reads the test process's
        // output until EOF before it reaps it, so a watchdog holding that pipe open would hang it.
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { fatalError("cannot start redis-server: \(error)") }
        var line = ""
        while let byte = try? stdout.fileHandleForReading.read(upToCount: 1), let c = byte.first, c != 10 {
            line.append(Character(UnicodeScalar(c)))
        }
        guard let pid = Int32(line) else { fatalError("redis-server did not start: \(line)") }
        let server = RedisServer(endpoint: RedisEndpoint(host: "127.0.0.1", port: port), pid: pid)
        server.waitUntilReady()
        return server
    }

    /// Stops a server this process started.
    public func stop() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        // Wait until the port refuses connections.
        for _ in 0..<200 {
            guard (try? ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: endpoint.host, port: endpoint.port).wait())?.close() != nil else { return }
            usleep(10_000)
        }
    }

    /// Freezes a server this process started (SIGSTOP): connections stay open, nothing answers.
    public func pause() { if let pid { kill(pid, SIGSTOP) } }

    /// Lets a paused server answer again.
    public func resume() { if let pid { kill(pid, SIGCONT) } }

    public var url: String { "redis://\(endpoint.host):\(endpoint.port)" }

    /// A new client to this server. Its timeouts only catch a hang: a loaded machine has
    /// taken more than the client's default 250 ms to connect on loopback.
    public func client(connections: Int = 2, timeout: Duration = .seconds(30)) -> RedisClient {
        RedisClient(RedisClientConfiguration(endpoint: endpoint, connections: connections, connectTimeout: .seconds(30), commandTimeout: timeout))
    }

    private func waitUntilReady() {
        for _ in 0..<2_400 {   // 60 s: a loaded machine may take seconds to start it
            if let socket = try? ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: endpoint.host, port: endpoint.port).wait() {
                try? socket.close().wait()
                return
            }
            usleep(25_000)
        }
        fatalError("redis-server on port \(endpoint.port) did not start within 60 s")
    }

    public static func freePort() -> Int {
        let channel = try! ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try! channel.close().wait()
        return port
    }
}

/// A key prefix no other test uses.
public func uniquePrefix(_ name: String = #function) -> String {
    "test:\(name.prefix(while: { $0 != "(" })):\(UInt64.random(in: 0...UInt64.max)):"
}
