import Engine
import FirebreakAPI
import FirebreakTestSupport
import Foundation
import ObjectStore
import Server
import Snapshots
import Store
import XCTest

/// A Firebreak server on a free port over the shared test cluster, and clients for it.
struct Harness {
    static let adminToken = "fbk_test_admin_token"
    let running: RunningServer
    let admin: APIClient
    /// The server itself, for measurements that bypass HTTP.
    let server: FirebreakServer
    static let snapshotDirectory = NSTemporaryDirectory() + "firebreak-test-snapshots-\(getpid())"

    static func start(limits: ServerLimits = ServerLimits(), replica: String = "replica-1", consistencyWaitMs: Int = 1_000,
                      snapshots: (any SnapshotStore)? = nil, poolSize: Int = 4, signingKey: IncidentSigningKey? = nil,
                      progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Harness {
        var configuration = FirebreakServer.Configuration(conninfo: try TestCluster.shared().conninfo(),
                                                          snapshotStore: snapshots ?? FolderSnapshotStore(root: snapshotDirectory))
        configuration.port = 0
        configuration.poolSize = poolSize
        configuration.limits = limits
        configuration.replicaID = replica
        configuration.consistencyWaitMs = consistencyWaitMs
        configuration.signingKey = signingKey
        let server = try await FirebreakServer.prepare(configuration, progress: progress)
        _ = try await server.bootstrapAdminToken(from: ["FIREBREAK_ADMIN_TOKEN": adminToken])
        let running = try await server.start()
        return Harness(running: running, admin: APIClient(baseURL: running.baseURL, token: adminToken), server: server)
    }

    func stop() async throws { try await running.stop() }

    /// An S3 snapshot store on the tests' moto server, under a prefix of its own.
    static func s3Store() throws -> S3SnapshotStore {
        let server = try MotoS3.shared()
        let client = S3Client(S3Client.Configuration(
            bucket: server.bucket, region: server.region,
            credentials: S3Credentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey),
            endpoint: server.endpoint))
        return S3SnapshotStore(client: client, prefix: "server-tests-\(UUID().uuidString.prefix(8))/snapshots",
                               cacheRoot: NSTemporaryDirectory() + "fb-s3-cache-\(getpid())")
    }

    func client(token: String?) -> APIClient { APIClient(baseURL: running.baseURL, token: token) }

    /// A new token with `role`, optionally scoped to `tenant`.
    func token(_ role: String, tenant: String? = nil) async throws -> APIClient {
        var body: [String: Any] = ["role": role]
        if let tenant { body["tenant"] = tenant }
        let reply = try await admin.send("POST", "/v1/tokens", json: try JSONSerialization.data(withJSONObject: body))
        XCTAssertEqual(reply.status, 201, String(decoding: reply.body, as: UTF8.self))
        return client(token: try reply.object()["token"] as? String)
    }

    /// A fresh collection with a unique name.
    func collection(dimension: Int = 8, metric: String = "cosine") async throws -> String {
        let name = "c\(getpid())-\(UUID().uuidString.prefix(8))"
        let reply = try await admin.post("/v1/collections", ["name": name, "dimension": dimension, "metric": metric])
        XCTAssertEqual(reply.status, 201, String(decoding: reply.body, as: UTF8.self))
        return name
    }
}

extension APIClient {
    func post(_ path: String, _ body: [String: Any], key: String? = nil) async throws -> Reply {
        try await send("POST", path, json: try JSONSerialization.data(withJSONObject: body), idempotencyKey: key)
    }

    func put(_ path: String, _ body: [String: Any]) async throws -> Reply {
        try await send("PUT", path, json: try JSONSerialization.data(withJSONObject: body))
    }

    func get(_ path: String) async throws -> Reply { try await send("GET", path) }

    /// An incident's timeline as the typed wire events.
    func events(_ incident: String) async throws -> [EventBody] {
        try await get("/v1/incidents/\(incident)/timeline").decoded(TimelineBody.self).events
    }

    /// Ids of a search's results (asserting a 200).
    func searchIDs(_ collection: String, _ body: [String: Any], file: StaticString = #filePath, line: UInt = #line)
        async throws -> [String] {
        let reply = try await post("/v1/collections/\(collection)/search", body)
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        return (try reply.object()["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
}

extension APIClient.Reply {
    func object() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw NSError(domain: "test", code: 1, userInfo: [NSLocalizedDescriptionKey: "not a JSON object"])
        }
        return object
    }

    var code: String? { problem?.code }
}

/// Seeded documents: `count` per tenant, random unit-ish vectors and texts from a small vocabulary.
func documents(tenant: String, count: Int, dimension: Int, seed: UInt64, prefix: String? = nil) -> [[String: Any]] {
    var rng = SplitMix(seed)
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]
    return (0..<count).map { i in
        let text = (0..<8).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") + " \(tenant)"
        return ["id": "\(prefix ?? tenant)-\(i)", "tenant": tenant, "text": text,
                "embedding": (0..<dimension).map { _ in rng.unit() - 0.5 }]
    }
}

struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
