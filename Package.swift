// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "bucketscope",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TokenBucket", targets: ["TokenBucket"]),
        .executable(name: "bucketscope", targets: ["bucketscope"]),
        .library(name: "SharedStore", targets: ["SharedStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The HTTP gateway (`bucketscope serve`) only; the TokenBucket library never sees these.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The library a server imports: no terminal, no UI, no package dependencies: stdlib,
        // Synchronization and its own tiny C target (the CPU's time-stamp counter).
        .target(name: "CFastClock"),
        .target(
            name: "TokenBucket",
            dependencies: ["CFastClock"],
            swiftSettings: strict),
        // Fleet simulator and live runner over the library.
        .target(
            name: "Fleet",
            dependencies: [
                "TokenBucket",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict),
        // App state, update, layout, widgets drawing into a cell grid, themes. No curses here.
        .target(
            name: "Dashboard",
            dependencies: ["Fleet", "TokenBucket", "Compare"],
            swiftSettings: strict),
        .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),
        .target(name: "CTerminalSignals"),
        // The only code that talks to ncurses.
        .target(
            name: "TerminalUI",
            dependencies: ["Dashboard", "CNcurses", "CTerminalSignals"],
            swiftSettings: strict),
        // Buckets shared by several processes: exact GCRA as Lua scripts in Redis, over a small
        // RESP client on SwiftNIO.
        .target(
            name: "SharedStore",
            dependencies: [
                "TokenBucket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // The HTTP gateway in front of an OpenAI-compatible API, and its built-in mock upstream.
        .target(
            name: "Gateway",
            dependencies: [
                "TokenBucket", "Fleet", "SharedStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // The lean upstream client for http:// upstreams (Sources/Gateway/Upstream).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Hummingbird's HTTP/1 codec, for the gateway's own child channel (fast path).
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict),
        // Rate-limiting algorithms side by side on one stream (`bucketscope compare`).
        .target(
            name: "Compare",
            dependencies: [
                "TokenBucket", "Fleet",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strict),
        .target(
            name: "BucketscopeCommands",
            dependencies: [
                "TokenBucket", "Fleet", "Compare", "Dashboard", "TerminalUI", "Gateway", "SharedStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "bucketscope", dependencies: ["BucketscopeCommands"], swiftSettings: strict),
        .testTarget(name: "TokenBucketTests", dependencies: ["TokenBucket"], swiftSettings: strict),
        .testTarget(name: "FleetTests", dependencies: ["Fleet", "TokenBucket"], swiftSettings: strict),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Fleet", "TerminalUI"], exclude: ["Golden"],
                    swiftSettings: strict),
        // The redis-server both store test targets run against (one helper, not a copy each).
        .target(name: "RedisTestServer", dependencies: [
            "SharedStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], path: "Tests/RedisTestServer", swiftSettings: strict),
        .testTarget(name: "SharedStoreTests", dependencies: ["SharedStore", "TokenBucket", "RedisTestServer"], swiftSettings: strict),
        .testTarget(name: "CompareTests", dependencies: ["Compare", "Fleet", "TokenBucket"], swiftSettings: strict),
        .testTarget(name: "GatewayTests", dependencies: [
            "Gateway", "TokenBucket", "SharedStore", "RedisTestServer",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: strict),
        .testTarget(name: "BucketscopeCommandsTests", dependencies: ["BucketscopeCommands", "TokenBucket"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
