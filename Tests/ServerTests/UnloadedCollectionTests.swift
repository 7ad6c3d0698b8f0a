import FirebreakAPI
import FirebreakTestSupport
import Foundation
import Store
import XCTest

/// One collection the engine cannot load at start-up does not take the replica down: the
/// others serve, it answers 503 `collection_unavailable` naming why, and `/readyz` and
/// `/metrics` list it. Once the data is repaired, a restart loads it again.
final class UnloadedCollectionTests: XCTestCase {
    func testACollectionThatCannotBeLoadedIsRefusedWhileTheOthersServe() async throws {
        let harness = try await Harness.start()
        let (broken, healthy) = (try await harness.collection(dimension: 8), try await harness.collection(dimension: 8))
        let acme = documents(tenant: "acme", count: 20, dimension: 8, seed: 51)
        for name in [broken, healthy] {
            await assertEqual(try await harness.admin.post("/v1/collections/\(name)/documents", ["documents": acme]).status, 201)
        }
        try await harness.stop()

        // A stored row of the wrong dimension (written behind the service's back).
        let owner = try TestCluster.owner()
        let rowSQL: StaticString = """
            UPDATE documents SET embedding = $2::real[]
            WHERE external_id = 'acme-1' AND collection_id = (SELECT id FROM collections WHERE name = $1)
            """
        let original = try owner.query("""
            SELECT embedding::text AS e FROM documents
            WHERE external_id = 'acme-1' AND collection_id = (SELECT id FROM collections WHERE name = $1)
            """, [.text(broken)])[0].string("e")
        try owner.query(rowSQL, [.text(broken), .text("{1,2,3}")])
        do {
            let restarted = try await Harness.start()
            let admin = restarted.admin
            let refused = try await admin.post("/v1/collections/\(broken)/search", ["vector": acme[2]["embedding"]!, "tenant": "acme", "k": 3])
            XCTAssertEqual(refused.status, 503, String(decoding: refused.body, as: UTF8.self))
            XCTAssertEqual(refused.problem?.problemCode, .collectionUnavailable)
            XCTAssertTrue(refused.problem?.detail.contains("could not be loaded") ?? false, String(decoding: refused.body, as: UTF8.self))
            await assertEqual(try await admin.get("/v1/collections/\(broken)").status, 503)
            await assertEqual(try await admin.searchIDs(healthy, ["vector": acme[2]["embedding"]!, "tenant": "acme", "k": 3]).first, "acme-2")

            let readiness = try await admin.get("/readyz")
            XCTAssertEqual(readiness.status, 200, "the other collections serve, so the replica is ready")
            let unloaded = try readiness.decoded(ReadinessBody.self).unloadedCollections
            XCTAssertEqual(unloaded.map(\.collection).filter { $0 == broken || $0 == healthy }, [broken])
            XCTAssertFalse(unloaded.first { $0.collection == broken }?.reason.isEmpty ?? true)
            let metrics = String(decoding: try await admin.get("/metrics").body, as: UTF8.self)
            let gauge = metrics.split(separator: "\n").first { $0.hasPrefix("firebreak_collections_unloaded ") }
            XCTAssertGreaterThanOrEqual(gauge.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0, 1, metrics)
            let duplicate = try await admin.post("/v1/collections", ["name": broken, "dimension": 8, "metric": "cosine"])
            XCTAssertEqual(duplicate.status, 409, "its name stays taken")
            try await restarted.stop()
        } catch {
            try owner.query(rowSQL, [.text(broken), .text(original)])
            throw error
        }

        // Repaired, it loads again at the next start.
        try owner.query(rowSQL, [.text(broken), .text(original)])
        let repaired = try await Harness.start()
        await assertEqual(try await repaired.admin.searchIDs(broken, ["vector": acme[2]["embedding"]!, "tenant": "acme", "k": 3]).first, "acme-2")
        let ready = try await repaired.admin.get("/readyz").decoded(ReadinessBody.self)
        XCTAssertFalse(ready.unloadedCollections.contains { $0.collection == broken })
        try await repaired.stop()
    }
}
