// swift-tools-version: 6.2
import PackageDescription

/// Strict settings for every target of ours (STYLE.md §10).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Async functions run on their caller's executor unless marked @concurrent: a connection's
    // requests then stay on its event loop instead of hopping to the global pool and back.
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
    .treatAllWarnings(as: .error),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")

let package = Package(
    name: "fioguard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fioguard", targets: ["fioguard"]),
        .executable(name: "fioguard-client", targets: ["fioguard-client"]),
        .executable(name: "fioguard-bench", targets: ["fioguard-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // C libraries, each behind a [system] module map and a shim.h (STYLE.md §2).
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        // Pure core: no NIO, no SQLite, no clock.
        .target(name: "FioguardJSON", dependencies: ["CJansson"], swiftSettings: strict),
        .target(
            name: "FioguardPolicy",
            dependencies: ["FioguardJSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),

        // I/O layers.
        .target(name: "FioguardStore", dependencies: ["CSQLite", log], swiftSettings: strict),
        .target(
            name: "FioguardServices",
            dependencies: [
                "FioguardJSON", "FioguardPolicy", "FioguardStore", log,
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "FioguardFaceIO",
            dependencies: [
                "FioguardJSON", "FioguardServices", "FioguardStore", log,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ] + nio,
            swiftSettings: strict
        ),
        .target(name: "FioguardRPC", dependencies: ["FioguardJSON", log], swiftSettings: strict),
        .target(name: "FioguardTransport", dependencies: nio + [log], swiftSettings: strict),
        .target(
            name: "FioguardMethods",
            dependencies: ["FioguardRPC", "FioguardServices", "FioguardPolicy", "FioguardJSON", log],
            swiftSettings: strict
        ),
        .target(
            name: "FioguardServer",
            dependencies: [
                "FioguardTransport", "FioguardRPC", "FioguardMethods", "FioguardServices",
                "FioguardStore", "FioguardPolicy", "FioguardFaceIO", "FioguardJSON", log,
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ] + nio,
            resources: [.embedInCode("Resources/openrpc.json")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fioguard",
            dependencies: [
                "FioguardServer", "FioguardPolicy", "FioguardJSON", log,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // The example client: a thin shell over a blocking Unix socket.
        .executableTarget(
            name: "fioguard-client",
            dependencies: ["FioguardJSON", "FioguardTransport"],
            path: "examples/fioguard-client",
            swiftSettings: strict
        ),

        // Load generator, kept apart from the tests (STYLE.md §12).
        .executableTarget(
            name: "fioguard-bench",
            dependencies: [
                "FioguardTransport", "FioguardStore", "FioguardJSON", "FioguardPolicy",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + nio,
            path: "Benchmarks/fioguard-bench",
            swiftSettings: strict
        ),

        // What every test needs: temp dirs, a live server, a fake FACEIO, a socket client.
        .target(
            name: "FioguardTesting",
            dependencies: ["FioguardServer", "FioguardJSON", log] + nio + [
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "FioguardJSONTests", dependencies: ["FioguardJSON"], swiftSettings: strict),
        .testTarget(name: "FioguardPolicyTests", dependencies: ["FioguardPolicy", "FioguardJSON"], swiftSettings: strict),
        .testTarget(name: "FioguardStoreTests", dependencies: ["FioguardStore", "FioguardTesting", "CSQLite"], swiftSettings: strict),
        .testTarget(name: "FioguardRPCTests", dependencies: ["FioguardRPC", "FioguardJSON", "FioguardTesting"], swiftSettings: strict),
        .testTarget(
            name: "FioguardTransportTests",
            dependencies: ["FioguardTransport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(
            name: "FioguardServicesTests",
            dependencies: ["FioguardServices", "FioguardPolicy", "FioguardJSON", "FioguardStore", "FioguardTesting", log],
            swiftSettings: strict),
        .testTarget(
            name: "FioguardIntegrationTests",
            dependencies: ["FioguardTesting", "FioguardServer", "FioguardFaceIO", "FioguardJSON", "CSQLite"],
            swiftSettings: strict
        ),
    ]
)
