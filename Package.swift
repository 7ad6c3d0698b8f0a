// swift-tools-version:6.1
//
// Firebreak: a retrieval-index quarantine and rollback service.
// One target per concept; see docs/ARCHITECTURE.md for the data flow.
import PackageDescription

/// Release builds target Haswell (AVX2 + FMA): the distance kernels are 1.6x faster than
/// baseline x86-64 (SSE2). Debug builds stay portable. The numeric modules also drop Swift's
/// dynamic exclusivity checks in release: their hot loops touch scratch objects millions of
/// times per second and manage exclusive access themselves (documented per type).
let fastMath: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]
let fastC: [CSetting] = [
    .unsafeFlags(["-O3", "-march=haswell"], .when(configuration: .release)),
]

let package = Package(
    name: "Firebreak",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "firebreak", targets: ["firebreak"]),
        .library(name: "VectorMath", targets: ["VectorMath"]),
        .library(name: "Diagnostics", targets: ["Diagnostics"]),
        .library(name: "DurableFile", targets: ["DurableFile"]),
        .library(name: "HNSW", targets: ["HNSW"]),
        .library(name: "Lexical", targets: ["Lexical"]),
        .library(name: "HubScan", targets: ["HubScan"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "ObjectStore", targets: ["ObjectStore"]),
        .library(name: "Snapshots", targets: ["Snapshots"]),
        .library(name: "Incidents", targets: ["Incidents"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "FirebreakAPI", targets: ["FirebreakAPI"]),
        .library(name: "Server", targets: ["Server"]),
        .library(name: "Drills", targets: ["Drills"]),
        .library(name: "ServiceBench", targets: ["ServiceBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
        // OTLP export of traces over HTTP only: the gRPC exporter (and its build) stays out.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // System libraries: headers from libblas-dev / libpq-dev. At run time libblas.so.3
        // resolves to OpenBLAS through Debian's alternatives when libopenblas0-pthread is installed.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libblas-dev", "libopenblas0-pthread"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),
        // Tiny C helpers Swift cannot express: prefetch, per-node spin locks, CRC-32C.
        .target(name: "CFirebreakSupport", cSettings: fastC),

        // The shape every module's typed error shares (CodedError<Code>).
        .target(name: "Diagnostics"),
        // Lower-case hex of bytes (digests, tokens, bytea literals).
        .target(name: "Hex"),
        .target(name: "VectorMath", dependencies: ["Diagnostics", "CBLAS", "CFirebreakSupport"],
                swiftSettings: fastMath, linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "DurableFile", dependencies: ["CFirebreakSupport"]),
        .target(name: "HNSW", dependencies: ["Diagnostics", "VectorMath", "DurableFile", "CFirebreakSupport"],
                swiftSettings: fastMath),
        .target(name: "Lexical", dependencies: ["Diagnostics", "VectorMath", "DurableFile"], swiftSettings: fastMath),
        .target(name: "HubScan", dependencies: ["Diagnostics", "VectorMath"], swiftSettings: fastMath),
        .target(name: "Incidents", dependencies: ["Diagnostics", "Hex", .product(name: "Crypto", package: "swift-crypto")]),
        // A small S3 client (SigV4 on AsyncHTTPClient) for snapshots kept in object storage.
        .target(name: "ObjectStore", dependencies: ["Hex", .product(name: "Crypto", package: "swift-crypto"),
                                                    .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                    .product(name: "NIOCore", package: "swift-nio"),
                                                    .product(name: "NIOHTTP1", package: "swift-nio")]),
        .target(name: "Snapshots", dependencies: ["DurableFile", "Hex", "ObjectStore", .product(name: "Crypto", package: "swift-crypto")]),
        // The migrations (sql/migrations links here) ship as a resource bundle.
        .target(name: "Store", dependencies: ["CLibPQ", "Hex", "Incidents", "Snapshots", .product(name: "Crypto", package: "swift-crypto")],
                resources: [.copy("Migrations")]),
        // Each collection's live state: tenant partitions of HNSW + BM25 with quarantine filters.
        .target(name: "Engine", dependencies: ["VectorMath", "HNSW", "Lexical", "HubScan", "Snapshots", "Store", "Incidents", "Hex",
                                               .product(name: "Crypto", package: "swift-crypto"),
                                               .product(name: "Tracing", package: "swift-distributed-tracing"),
                                               .product(name: "Instrumentation", package: "swift-distributed-tracing")]),
        // The JSON contract: every route's request and response bodies (what clients link).
        .target(name: "FirebreakAPI", dependencies: ["HubScan", "Incidents", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                     .product(name: "NIOCore", package: "swift-nio"),
                                                     .product(name: "NIOHTTP1", package: "swift-nio")]),
        // The HTTP API on Hummingbird 2; the client the CLI commands use.
        .target(name: "Server", dependencies: ["FirebreakAPI", "Engine", "Hex", "Snapshots", "Store", "Incidents", "Lexical", "VectorMath", "HubScan",
                                               .product(name: "Hummingbird", package: "hummingbird"),
                                               .product(name: "Metrics", package: "swift-metrics"),
                                               .product(name: "Prometheus", package: "swift-prometheus"),
                                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                               .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                               .product(name: "Tracing", package: "swift-distributed-tracing"),
                                               .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                                               .product(name: "Crypto", package: "swift-crypto")],
                resources: [.copy("openapi.json")]),
        // The corpus-poisoning game day against a running service, over FirebreakAPI only.
        .target(name: "Drills", dependencies: ["Diagnostics", "FirebreakAPI", "Incidents", "VectorMath"]),
        // `bench service`: the HTTP service measured against the engine in-process.
        .target(name: "ServiceBench", dependencies: ["Engine", "FirebreakAPI", "Server", "VectorMath"]),
        .executableTarget(name: "firebreak",
                          dependencies: ["FirebreakAPI", "Drills", "ServiceBench", "VectorMath", "HNSW", "Lexical", "HubScan", "Store", "Snapshots", "ObjectStore", "Incidents",
                                         "Engine", "Server", "Hex", .product(name: "Crypto", package: "swift-crypto"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "OTel", package: "swift-otel"),
                                         .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                          swiftSettings: fastMath),

        .testTarget(name: "VectorMathTests", dependencies: ["VectorMath"]),
        .testTarget(name: "HexTests", dependencies: ["Hex"]),
        .testTarget(name: "HNSWTests", dependencies: ["HNSW", "VectorMath", "DurableFile"]),
        .testTarget(name: "LexicalTests", dependencies: ["Lexical", "VectorMath", "DurableFile"],
                    exclude: ["Data"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Incidents", "Snapshots", "FirebreakTestSupport"]),
        .testTarget(name: "IncidentsTests", dependencies: ["Incidents", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "SnapshotsTests", dependencies: ["Snapshots", "DurableFile", "ObjectStore", "FirebreakTestSupport"]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore"]),
        // Data: a seeded sample of the real-embedding dev set (read by path, not bundled).
        .testTarget(name: "HubScanTests", dependencies: ["HubScan", "VectorMath"], exclude: ["Data"]),
        // The contract's types against docs/openapi.json.
        .testTarget(name: "FirebreakAPITests", dependencies: ["FirebreakAPI", "HubScan", "Incidents", "VectorMath"]),
        // The throwaway PostgreSQL cluster every storage-touching test target shares.
        .target(name: "FirebreakTestSupport", dependencies: ["Store"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "HNSW", "Store", "VectorMath", "FirebreakTestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "FirebreakAPI", "Drills", "ServiceBench", "Engine", "Incidents", "Store", "Snapshots", "ObjectStore", "FirebreakTestSupport",
                                                       "Hex", .product(name: "Crypto", package: "swift-crypto")]),
        // Runs the built executable; depending on it makes SwiftPM build it first.
        .testTarget(name: "FirebreakCLITests", dependencies: ["firebreak", "FirebreakAPI", "Incidents", "ObjectStore", "VectorMath", "FirebreakTestSupport",
                                                             .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                             .product(name: "Hummingbird", package: "hummingbird")]),
    ]
)
