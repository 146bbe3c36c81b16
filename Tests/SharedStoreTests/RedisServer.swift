import Foundation
import NIOCore
import NIOPosix
import SharedStore
import Synchronization
import Testing

/// A redis-server for the tests: `BUCKETSCOPE_REDIS_URL` when set (CI), else one started here
/// on a free loopback port with persistence off, stopped when the test process exits.
/// A missing redis-server is a failure, never a skip.
final class RedisServer: Sendable {
    let endpoint: RedisEndpoint
    private let process: Process?

    /// The server every test shares (each test uses its own key prefix).
    static let shared: RedisServer = {
        if let url = ProcessInfo.processInfo.environment["BUCKETSCOPE_REDIS_URL"], !url.isEmpty {
            do { return RedisServer(endpoint: try RedisEndpoint(url), process: nil) } catch {
                fatalError("BUCKETSCOPE_REDIS_URL=\(url): \(error)")
            }
        }
        return start()
    }()

    private init(endpoint: RedisEndpoint, process: Process?) {
        self.endpoint = endpoint
        self.process = process
    }

    /// Starts a private server (for tests that stop or restart it), on `port` or a free one.
    static func start(port: Int? = nil) -> RedisServer {
        let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            fatalError("redis-server is not installed: the SharedStore tests need it (apt-get install redis-server)")
        }
        let port = port ?? freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--loglevel", "warning"]
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { fatalError("cannot start redis-server: \(error)") }
        RedisServer.track(process.processIdentifier)
        let server = RedisServer(endpoint: RedisEndpoint(host: "127.0.0.1", port: port), process: process)
        server.waitUntilReady()
        return server
    }

    /// Stops a server this process started.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// A new client to this server with short timeouts.
    func client(connections: Int = 2, timeout: Duration = .seconds(2)) -> RedisClient {
        RedisClient(RedisClientConfiguration(endpoint: endpoint, connections: connections, commandTimeout: timeout))
    }

    private func waitUntilReady() {
        for _ in 0..<200 {
            if let socket = try? ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: endpoint.host, port: endpoint.port).wait() {
                try? socket.close().wait()
                return
            }
            usleep(25_000)
        }
        fatalError("redis-server on port \(endpoint.port) did not start within 5 s")
    }

    static func freePort() -> Int {
        let channel = try! ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try! channel.close().wait()
        return port
    }

    // Servers started here are killed when the test process exits, however it exits normally.
    private static let started = Mutex<[pid_t]>([])

    private static func track(_ pid: pid_t) {
        let first = started.withLock { pids in pids.append(pid); return pids.count == 1 }
        if first {
            atexit {
                for pid in RedisServer.started.withLock({ $0 }) { kill(pid, SIGTERM) }
            }
        }
    }
}

/// A key prefix no other test uses.
func uniquePrefix(_ name: String = #function) -> String {
    "test:\(name.prefix(while: { $0 != "(" })):\(UInt64.random(in: 0...UInt64.max)):"
}
