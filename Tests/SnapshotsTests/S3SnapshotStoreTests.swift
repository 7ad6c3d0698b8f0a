import FirebreakTestSupport
import Foundation
import ObjectStore
@testable import Snapshots
import XCTest

/// The S3 store against a real S3-compatible server (moto, signatures checked), each test
/// under a prefix of its own.
final class S3SnapshotStoreTests: XCTestCase {
    private var server: MotoS3.Server!
    private var cache: String!

    override func setUpWithError() throws {
        server = try MotoS3.shared()
        cache = NSTemporaryDirectory() + "fb-s3-cache-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: cache)
    }

    private func client(secret: String? = nil, multipartAbove threshold: Int? = nil) -> S3Client {
        var configuration = S3Client.Configuration(
            bucket: server.bucket, region: server.region,
            credentials: S3Credentials(accessKeyID: server.accessKeyID, secretAccessKey: secret ?? server.secretAccessKey),
            endpoint: server.endpoint)
        configuration.retry = RetryPolicy(attemptsMax: 2, baseSeconds: 0.01, capSeconds: 0.05)
        if let threshold {
            configuration.partBytes = 5 << 20
            configuration.multipartThresholdBytes = threshold
        }
        return S3Client(configuration)
    }

    private func store(_ client: S3Client? = nil) -> S3SnapshotStore {
        S3SnapshotStore(client: client ?? self.client(), prefix: "t-\(UUID().uuidString.prefix(8))/fb", cacheRoot: cache)
    }

    private func manifest(_ id: String) -> SnapshotManifest {
        SnapshotManifest(id: id, collection: "docs", parent: nil, documents: 2, dimension: 4, metric: "cosine",
                         index: .init(m: 16, efConstruction: 200, efSearch: 64), analyzer: nil)
    }

    private func writeTwoFiles(_ folder: String, size: Int = 1_000) throws {
        try Data((0..<size).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: folder + "/p0000.hnsw"))
        try Data("{\"partitions\":[]}".utf8).write(to: URL(fileURLWithPath: folder + "/partitions.json"))
    }

    func testAWrongSecretIsRefusedWithSignatureDoesNotMatch() {
        XCTAssertThrowsError(try client(secret: "not-the-secret").put("fb/x", body: [1, 2, 3])) { error in
            XCTAssertEqual((error as? S3Error)?.code, .signatureDoesNotMatch, "\(error)")
        }
    }

    /// Keys and prefixes with the characters moto's signature check is known to trip on.
    func testKeysWithReservedCharactersAreSignedAndStoredExactly() throws {
        let client = client()
        let base = "t-\(UUID().uuidString.prefix(8))/fb/"
        let keys = [base + "a b+c=d.txt", base + "plain.txt", base + "ü~x.txt"]
        for (index, key) in keys.enumerated() { try client.put(key, body: [UInt8(index)]) }
        XCTAssertEqual(Set(try client.list(prefix: base).map(\.key)), Set(keys))
        XCTAssertEqual(try client.get(keys[0]), [0])
        XCTAssertEqual(try client.get(keys[2]), [2])
        XCTAssertEqual(try client.head(keys[1]), 1)
        XCTAssertNil(try client.head(base + "missing"))
        XCTAssertThrowsError(try client.get(base + "missing")) { XCTAssertEqual(($0 as? S3Error)?.code, .noSuchKey) }
    }

    func testPutIfAbsentNeverReplaces() throws {
        let client = client(), key = "t-\(UUID().uuidString.prefix(8))/once"
        try client.put(key, body: [1], ifAbsent: true)
        XCTAssertThrowsError(try client.put(key, body: [2], ifAbsent: true)) {
            XCTAssertEqual(($0 as? S3Error)?.code, .preconditionFailed, "\($0)")
        }
        XCTAssertEqual(try client.get(key), [1])
        XCTAssertEqual(try client.get(key, range: 0...0), [1])
    }

    func testPublishListCheckoutAndRemove() throws {
        let store = store()
        let published = try store.publish(manifest("s1-a"), in: "c1") { try writeTwoFiles($0) }
        XCTAssertEqual(published.files.map(\.name), ["p0000.hnsw", "partitions.json"])
        XCTAssertEqual(published.rootHash, published.computedRootHash())
        XCTAssertEqual(try store.ids(in: "c1"), ["s1-a"])
        XCTAssertEqual(try store.ids(in: "c2"), [])

        let checkout = try store.checkout("s1-a", in: "c1")
        XCTAssertEqual(checkout.manifest, published)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkout.path + "/p0000.hnsw")).count, 1_000)
        checkout.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkout.path), "release deletes the downloaded copy")
        XCTAssertEqual(try store.verify("s1-a", in: "c1").rootHash, published.rootHash)

        try store.remove("s1-a", in: "c1")
        XCTAssertEqual(try store.ids(in: "c1"), [])
        XCTAssertEqual(try store.client.list(prefix: store.key("c1")), [])
        XCTAssertThrowsError(try store.checkout("s1-a", in: "c1")) { XCTAssertEqual(($0 as? SnapshotError)?.code, .notFound) }
    }

    func testASecondPublishOfTheSameIDIsRefusedAndChangesNothing() throws {
        let store = store()
        let first = try store.publish(manifest("s1-a"), in: "c1") { try writeTwoFiles($0) }
        XCTAssertThrowsError(try store.publish(manifest("s1-a"), in: "c1") { try writeTwoFiles($0, size: 7) }) {
            XCTAssertEqual(($0 as? SnapshotError)?.code, .alreadyExists, "\($0)")
        }
        XCTAssertEqual(try store.verify("s1-a", in: "c1"), first)
    }

    func testACorruptedOrTruncatedObjectIsRefusedAndNamed() throws {
        let store = store()
        _ = try store.publish(manifest("s1-a"), in: "c1") { try writeTwoFiles($0) }
        let segment = store.key("c1", "s1-a", "p0000.hnsw")
        var bytes = try store.client.get(segment)
        bytes[10] ^= 0xff
        try store.client.put(segment, body: bytes)
        XCTAssertThrowsError(try store.checkout("s1-a", in: "c1")) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .hashMismatch, "\(error)")
            XCTAssertEqual((error as? SnapshotError)?.file, "p0000.hnsw")
        }
        try store.client.put(segment, body: Array(bytes.prefix(100)))
        XCTAssertThrowsError(try store.checkout("s1-a", in: "c1")) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .sizeMismatch, "\(error)")
            XCTAssertEqual((error as? SnapshotError)?.file, "p0000.hnsw")
        }
        try store.client.put(store.key("c1", "s1-a", "stray.bin"), body: [1])
        XCTAssertThrowsError(try store.checkout("s1-a", in: "c1")) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .unexpectedFile, "\(error)")
            XCTAssertEqual((error as? SnapshotError)?.file, "stray.bin")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache).filter { !$0.hasPrefix(".") }, [],
                       "a refused checkout leaves no download behind")
    }

    func testAnInterruptedMultipartUploadLeavesNoVisibleSnapshotAndNoParts() throws {
        let client = client(multipartAbove: 6 << 20)
        let store = store(client)
        client.faults.failUploadPart(after: 1)
        XCTAssertThrowsError(try store.publish(manifest("s1-big"), in: "c1") { try writeTwoFiles($0, size: 12 << 20) })
        XCTAssertEqual(try store.ids(in: "c1"), [])
        XCTAssertEqual(try client.list(prefix: store.key("c1")), [], "no segment and no manifest are left")
        XCTAssertEqual(try client.openUploads(prefix: store.key("c1")), [], "the upload was aborted")

        client.faults.failUploadPart(after: nil)
        let published = try store.publish(manifest("s1-big"), in: "c1") { try writeTwoFiles($0, size: 12 << 20) }
        let checkout = try store.checkout("s1-big", in: "c1")
        defer { checkout.release() }
        XCTAssertEqual(checkout.manifest?.files.first?.bytes, 12 << 20)
        XCTAssertEqual(checkout.manifest, published)
    }

    func testLooseFilesArePublishedOnceAndCheckedOnLoad() throws {
        let store = store()
        let sha = try store.publishFile("c1/rebuilt/j1-acme.hnsw") { path in try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path)) }
        XCTAssertThrowsError(try store.publishFile("c1/rebuilt/j1-acme.hnsw") { try Data([9]).write(to: URL(fileURLWithPath: $0)) }) {
            XCTAssertEqual(($0 as? SnapshotError)?.code, .alreadyExists)
        }
        let checkout = try store.checkoutFile("c1/rebuilt/j1-acme.hnsw", sha256: sha)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkout.path)), Data([1, 2, 3]))
        checkout.release()
        XCTAssertThrowsError(try store.checkoutFile("c1/rebuilt/j1-acme.hnsw", sha256: String(repeating: "0", count: 64))) {
            XCTAssertEqual(($0 as? SnapshotError)?.code, .hashMismatch)
        }
        try store.removeFile("c1/rebuilt/j1-acme.hnsw")
        XCTAssertNil(try store.client.head(store.key("c1/rebuilt/j1-acme.hnsw")))
    }

    func testTheProbeSaysWhetherTheBucketIsWritable() throws {
        XCTAssertTrue(try store().probe().contains("reachable and writable"))
        XCTAssertThrowsError(try store(client(secret: "wrong")).probe()) { error in
            XCTAssertEqual((error as? SnapshotError)?.code, .remote)
            XCTAssertTrue("\(error)".contains("signature_does_not_match"), "\(error)")
        }
    }

    func testS3URLsAreParsed() {
        XCTAssertEqual(S3SnapshotStore.parse("s3://my-bucket/fb/snapshots")?.prefix, "fb/snapshots")
        XCTAssertEqual(S3SnapshotStore.parse("s3://my-bucket")?.bucket, "my-bucket")
        XCTAssertNil(S3SnapshotStore.parse("/srv/fb"))
        XCTAssertNil(S3SnapshotStore.parse("s3://Bad_Bucket/x"))
    }
}

/// What a publish killed half-way leaves is removed by retention once it is old enough.
final class S3IncompletePublishTests: XCTestCase {
    func testSegmentsWithoutAManifestAndAbandonedUploadsAreRemovedOnceOld() throws {
        let server = try MotoS3.shared()
        var configuration = S3Client.Configuration(
            bucket: server.bucket, region: server.region,
            credentials: S3Credentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey),
            endpoint: server.endpoint)
        configuration.partBytes = 5 << 20
        configuration.multipartThresholdBytes = 6 << 20
        let client = S3Client(configuration)
        let cache = NSTemporaryDirectory() + "fb-s3-sweep-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let store = S3SnapshotStore(client: client, prefix: "sweep-\(UUID().uuidString.prefix(8))", cacheRoot: cache)
        let manifest = SnapshotManifest(id: "s1-killed", collection: "docs", parent: nil, documents: 0, dimension: 4,
                                        metric: "cosine", index: .init(m: 16, efConstruction: 200, efSearch: 64), analyzer: nil)
        _ = try store.publish(SnapshotManifest(id: "s1-done", collection: "docs", parent: nil, documents: 0, dimension: 4,
                                               metric: "cosine", index: .init(m: 16, efConstruction: 200, efSearch: 64),
                                               analyzer: nil), in: "c1") { try Data([1]).write(to: URL(fileURLWithPath: $0 + "/a.bin")) }
        client.faults.failUploadPart(after: 1, abandon: true)
        XCTAssertThrowsError(try store.publish(manifest, in: "c1") { folder in
            try Data([7]).write(to: URL(fileURLWithPath: folder + "/a.bin"))
            try Data(count: 12 << 20).write(to: URL(fileURLWithPath: folder + "/b.bin"))
        })
        client.faults.failUploadPart(after: nil)
        // The failed publish deleted its finished segment, but its upload was abandoned; leave
        // a segment behind as a killed process would.
        try client.put(store.key("c1", "s1-killed", "a.bin"), body: [7])
        XCTAssertEqual(try client.openUploads(prefix: store.key("c1")).count, 1)
        XCTAssertEqual(try store.ids(in: "c1"), ["s1-done"], "an incomplete snapshot is never listed")

        // moto reports every open upload as initiated in 2010, so only the segment shows that
        // young leftovers are kept; the abandoned upload already counts as old.
        let young = try store.removeIncomplete(in: "c1", olderThanSeconds: 3_600)
        XCTAssertFalse(young.contains { $0.hasPrefix("s1-killed") }, "a young segment is kept: \(young)")
        XCTAssertEqual(try client.list(prefix: store.key("c1", "s1-killed")).count, 1)
        let removed = try store.removeIncomplete(in: "c1", olderThanSeconds: -60) + young
        XCTAssertEqual(removed.count, 2, "\(removed)")
        XCTAssertEqual(try client.openUploads(prefix: store.key("c1")), [])
        XCTAssertEqual(try client.list(prefix: store.key("c1", "s1-killed")), [])
        XCTAssertEqual(try store.ids(in: "c1"), ["s1-done"], "a complete snapshot is never swept")
    }
}
