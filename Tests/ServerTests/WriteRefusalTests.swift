@testable import Engine
import FirebreakAPI
import FirebreakTestSupport
import Foundation
import XCTest

/// A collection that refuses writes says so where an operator looks (issue 17): on its status,
/// on `/readyz` (which stays ready: searches go on) and in `/metrics`. A restart clears it.
final class WriteRefusalTests: XCTestCase {
    func testARefusalShowsOnTheCollectionReadinessAndMetricsUntilARestart() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let admin = harness.admin
        let acme = documents(tenant: "acme", count: 20, dimension: 8, seed: 41)
        await assertEqual(try await admin.post(path + "/documents", ["documents": acme]).status, 201)
        let before = try await admin.get("/readyz").decoded(ReadinessBody.self)
        XCTAssertFalse(before.writeRefusals.contains { $0.collection == collection })
        let fresh = try await admin.get(path).decoded(CollectionBody.self)
        XCTAssertNil(fresh.writeRefusal)

        // The COMMIT's answer is lost and the record cannot be asked: the write fails closed.
        EngineFaults.arm(.commitAnswerLost)
        EngineFaults.arm(.commitCheck)
        let failed = try await admin.post(path + "/quarantine", ["ids": ["acme-1"], "reason": "hub"])
        EngineFaults.disarm(.commitAnswerLost)
        EngineFaults.disarm(.commitCheck)
        XCTAssertEqual(failed.status, 503, String(decoding: failed.body, as: UTF8.self))

        let status = try await admin.get(path).decoded(CollectionBody.self)
        let reason = try XCTUnwrap(status.writeRefusal, "the collection says it refuses writes")
        XCTAssertTrue(reason.contains("COMMIT got no answer"), reason)
        let readiness = try await admin.get("/readyz")
        XCTAssertEqual(readiness.status, 200, "searches are still served, so the replica stays ready")
        let refusals = try readiness.decoded(ReadinessBody.self).writeRefusals
        XCTAssertEqual(refusals.filter { $0.collection == collection }, [WriteRefusalBody(collection: collection, reason: reason)])
        let metrics = String(decoding: try await admin.get("/metrics").body, as: UTF8.self)
        let gauge = metrics.split(separator: "\n").first { $0.hasPrefix("firebreak_collections_refusing_writes ") }
        XCTAssertEqual(gauge.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0, 1, metrics)
        let refused = try await admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 1, dimension: 8, seed: 42, prefix: "late")])
        XCTAssertEqual(refused.status, 503)
        XCTAssertTrue(refused.problem?.detail.contains("until a restart") ?? false, String(decoding: refused.body, as: UTF8.self))
        await assertEqual(try await admin.searchIDs(collection, ["vector": acme[2]["embedding"]!, "tenant": "acme", "k": 3]).count, 3)
        try await harness.stop()

        // A restart loads the collection from PostgreSQL and takes writes again.
        let restarted = try await Harness.start()
        let repaired = try await restarted.admin.get(path).decoded(CollectionBody.self)
        XCTAssertNil(repaired.writeRefusal)
        let ready = try await restarted.admin.get("/readyz").decoded(ReadinessBody.self)
        XCTAssertFalse(ready.writeRefusals.contains { $0.collection == collection })
        await assertEqual(try await restarted.admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 1, dimension: 8, seed: 43, prefix: "later")]).status, 201)
        try await restarted.stop()
    }
}
