import Engine
import FirebreakAPI
import FirebreakTestSupport
import Foundation
import ObjectStore
import Server
import Snapshots
import Store
import XCTest

/// Snapshots of the live service and rollback: atomic under load, never resurrecting a
/// quarantined or deleted document, recorded on the incident, and surviving a restart.
final class SnapshotTests: XCTestCase {
    private func ids(_ reply: APIClient.Reply) throws -> [String] {
        (try reply.object()["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func testRollbackToLastCleanUnderLoadRetiresLaterDocumentsAndKeepsTheQuarantine() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 16)
        let path = "/v1/collections/\(collection)"
        let acme = documents(tenant: "acme", count: 150, dimension: 16, seed: 71)
        let globex = documents(tenant: "globex", count: 150, dimension: 16, seed: 72)
        await assertEqual(try await admin.post(path + "/documents", ["documents": acme + globex]).status, 201)
        await assertEqual(try await admin.post(path + "/last-clean", [:]).status, 404, "an unknown route is a 404 problem")
        await assertEqual(try await admin.post(path + "/rollback", ["snapshot_id": "last-clean"]).code, "no_clean_snapshot")

        // Snapshot, then verify it clean (a generous threshold: this test is about rollback).
        let taken = try await admin.post(path + "/snapshots", [:])
        XCTAssertEqual(taken.status, 201, String(decoding: taken.body, as: UTF8.self))
        let snapshot = try taken.object()
        let id = try XCTUnwrap(snapshot["id"] as? String)
        XCTAssertEqual(snapshot["status"] as? String, "published")
        XCTAssertEqual(snapshot["documents"] as? Int, 300)
        XCTAssertEqual((snapshot["root_hash"] as? String)?.count, 64)
        let verified = try await admin.post(path + "/snapshots/\(id)/verify", ["sample": "documents", "threshold": 1_000]).object()
        XCTAssertEqual(verified["clean"] as? Bool, true)
        XCTAssertEqual(verified["status"] as? String, "verified_clean")
        let listed = try await admin.get(path + "/snapshots").object()["snapshots"] as? [[String: Any]] ?? []
        XCTAssertEqual(listed.first?["id"] as? String, id)
        XCTAssertEqual(listed.first?["status"] as? String, "verified_clean")

        // After the snapshot: five poisoned documents arrive, one clean document is quarantined,
        // one is deleted.
        let poison = documents(tenant: "acme", count: 5, dimension: 16, seed: 73, prefix: "poison")
        await assertEqual(try await admin.post(path + "/documents", ["documents": poison]).status, 201)
        let quarantine = try await admin.post(path + "/quarantine", ["ids": ["acme-7"], "reason": "suspicious"]).object()
        let incident = try XCTUnwrap(quarantine["incident_id"] as? String)
        await assertEqual(try await admin.send("DELETE", path + "/documents/acme-8").status, 200)

        // Rollback while eight clients search all three modes; none may fail.
        let bodies: [Data] = try (0..<acme.count).map { i in
            try JSONSerialization.data(withJSONObject: ["vector": acme[i]["embedding"]!, "query": acme[i]["text"]!, "tenant": "acme",
                                                        "k": 10, "mode": ["vector", "lexical", "hybrid"][i % 3]])
        }
        let searchPath = path + "/search"
        let load = Task {
            try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var failed = 0, served = 0
                        let deadline = Date().addingTimeInterval(1.5)
                        var i = client
                        while Date() < deadline {
                            let reply = try await admin.send("POST", searchPath, json: bodies[i % bodies.count])
                            if reply.status == 200 { served += 1 } else { failed += 1 }
                            i += 8
                        }
                        return (served, failed)
                    }
                }
                return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let rolled = try await admin.post(path + "/rollback", ["snapshot_id": "last-clean", "incident_id": incident])
        XCTAssertEqual(rolled.status, 200, String(decoding: rolled.body, as: UTF8.self))
        let (served, failed) = try await load.value
        XCTAssertEqual(failed, 0, "no query fails during a rollback")
        XCTAssertGreaterThan(served, 50)
        let result = try rolled.object()
        XCTAssertEqual(result["snapshot_id"] as? String, id)
        XCTAssertEqual(result["retired"] as? Int, 5)
        XCTAssertEqual(result["incident_id"] as? String, incident)
        XCTAssertEqual(result["tenants"] as? [String], ["acme", "globex"])

        try await assertRolledBack(admin, path: path, acme: acme, poison: poison)
        let timeline = try await admin.get("/v1/incidents/\(incident)/timeline").object()
        let kinds = (timeline["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        XCTAssertTrue(kinds.contains("rollback"), "\(kinds)")
        await assertEqual(try await admin.get("/v1/incidents/\(incident)/verify").object()["intact"] as? Bool, true)
        try await harness.stop()

        // A restart serves the same state: the retirement and the quarantine are stored.
        let restarted = try await Harness.start()
        try await assertRolledBack(restarted.admin, path: path, acme: acme, poison: poison)
        try await restarted.stop()
    }

    private func assertRolledBack(_ admin: APIClient, path: String, acme: [[String: Any]], poison: [[String: Any]],
                                  file: StaticString = #filePath, line: UInt = #line) async throws {
        for doc in poison + [acme[7], acme[8]] {
            for mode in ["vector", "lexical", "hybrid"] {
                let reply = try await admin.post(path + "/search", ["vector": doc["embedding"]!, "query": doc["text"]!,
                                                                    "tenant": "acme", "k": 20, "mode": mode])
                XCTAssertFalse(try ids(reply).contains(doc["id"] as! String), "\(doc["id"]!) returned by \(mode)", file: file, line: line)
                XCTAssertEqual(try ids(reply).count, 20, file: file, line: line)
            }
            await assertEqual(try await admin.get(path + "/documents/\(doc["id"]!)").status, 404, file: file, line: line)
        }
        let neighbour = try await admin.post(path + "/search", ["vector": acme[9]["embedding"]!, "tenant": "acme", "k": 1])
        XCTAssertEqual(try ids(neighbour), ["acme-9"], "documents the snapshot held still serve", file: file, line: line)
        await assertEqual(try await admin.get(path).object()["documents"] as? Int, 299, file: file, line: line)
    }

    /// A rebuilt graph leaves quarantined documents out while BM25 keeps them withheld; a
    /// snapshot of it, rolled back to, must count them as held (not retire them).
    func testRollbackAfterARebuildKeepsTheQuarantinedDocumentsItHeld() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        await assertEqual(try await admin.post(path + "/documents",
                                               ["documents": documents(tenant: "acme", count: 60, dimension: 8, seed: 83)]).status, 201)
        let quarantined = try await admin.post(path + "/quarantine", ["ids": ["acme-3"], "reason": "hub"]).object()
        let incident = try XCTUnwrap(quarantined["incident_id"] as? String)
        let started = try await admin.post(path + "/rebuild", ["tenant": "acme", "incident_id": incident]).object()
        let job = try XCTUnwrap(started["job_id"] as? Int)
        var state = ""
        for _ in 0..<200 where !["succeeded", "failed", "cancelled"].contains(state) {
            try await Task.sleep(for: .milliseconds(50))
            state = try await admin.get("/v1/jobs/\(job)").object()["state"] as? String ?? ""
        }
        XCTAssertEqual(state, "succeeded")
        let taken = try await admin.post(path + "/snapshots", [:]).object()
        let id = try XCTUnwrap(taken["id"] as? String)
        let rolled = try await admin.post(path + "/rollback", ["snapshot_id": id, "incident_id": incident]).object()
        XCTAssertEqual(rolled["retired"] as? Int, 0, "\(rolled)")
        let listed = try await admin.get(path + "/quarantine").object()["entries"] as? [[String: Any]] ?? []
        XCTAssertEqual(listed.compactMap { $0["id"] as? String }, ["acme-3"], "still quarantined, not retired")
        await assertEqual(try await admin.get(path).object()["documents"] as? Int, 60)
        try await harness.stop()
    }

    /// Retention keeps the newest snapshots and removes the folders of the rest, but never
    /// the last-clean rollback target.
    func testRetentionKeepsTheNewestAndTheLastCleanSnapshot() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let (clean, taken) = try await cleanThenMoreSnapshots(admin, path: path, seed: 85)
        let listed = try await admin.get(path + "/snapshots").object()["snapshots"] as? [[String: Any]] ?? []
        let status = Dictionary(uniqueKeysWithValues: listed.map { ($0["id"] as! String, $0["status"] as! String) })
        XCTAssertEqual(status[clean], "verified_clean", "the last-clean target is kept")
        let live = listed.filter { $0["status"] as? String != "retired" }.compactMap { $0["id"] as? String }
        XCTAssertEqual(Set(live), Set(taken.suffix(Engine.LiveCollections.snapshotsKept) + [clean]))
        XCTAssertEqual(status[taken[0]], "retired")
        XCTAssertNil(snapshotFolder(harness, id: taken[0]), "a retired snapshot's folder is removed")
        XCTAssertNotNil(snapshotFolder(harness, id: clean))
        await assertEqual(try await admin.post(path + "/rollback", ["snapshot_id": "last-clean"]).status, 200)
        try await harness.stop()
    }

    /// The same retention over an S3 bucket: retired snapshots' objects are deleted, the newest
    /// ones and the last-clean target stay.
    func testRetentionRemovesRetiredSnapshotsFromAnS3Bucket() async throws {
        let store = try Harness.s3Store()
        let harness = try await Harness.start(replica: "retention-s3", snapshots: store)
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let (clean, taken) = try await cleanThenMoreSnapshots(admin, path: path, seed: 86)
        let space = "c\(try collectionID(collection))"
        XCTAssertEqual(Set(try store.ids(in: space)), Set(taken.suffix(Engine.LiveCollections.snapshotsKept) + [clean]))
        XCTAssertEqual(try store.client.list(prefix: store.key(space, taken[0])), [], "a retired snapshot's objects are deleted")
        await assertEqual(try await admin.post(path + "/rollback", ["snapshot_id": "last-clean"]).status, 200)
        try await harness.stop()
    }

    /// 30 documents, one snapshot verified clean (the last-clean target), then more snapshots
    /// than retention keeps.
    private func cleanThenMoreSnapshots(_ admin: APIClient, path: String, seed: UInt64) async throws -> (String, [String]) {
        await assertEqual(try await admin.post(path + "/documents",
                                               ["documents": documents(tenant: "acme", count: 30, dimension: 8, seed: seed)]).status, 201)
        let first = try await admin.post(path + "/snapshots", [:]).object()
        let clean = try XCTUnwrap(first["id"] as? String)
        await assertEqual(try await admin.post(path + "/snapshots/\(clean)/verify", ["threshold": 1_000]).object()["clean"] as? Bool, true)
        var taken: [String] = []
        for _ in 0..<(Engine.LiveCollections.snapshotsKept + 2) {
            let reply = try await admin.post(path + "/snapshots", [:]).object()
            taken.append(try XCTUnwrap(reply["id"] as? String))
        }
        return (clean, taken)
    }

    private func collectionID(_ name: String) throws -> Int64 {
        try TestCluster.owner().query("SELECT id FROM collections WHERE name = $1", [.text(name)])[0].integer("id")
    }

    func testSnapshotRefusalsNameTheProblem() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        await assertEqual(try await admin.post(path + "/documents",
                                               ["documents": documents(tenant: "acme", count: 40, dimension: 8, seed: 81)]).status, 201)
        let taken = try await admin.post(path + "/snapshots", [:]).object()
        let id = try XCTUnwrap(taken["id"] as? String)

        await assertEqual(try await admin.post(path + "/rollback", ["snapshot_id": "no-such-snapshot"]).code, "unknown_snapshot")
        await assertEqual(try await admin.post(path + "/rollback", ["snapshot_id": "../etc"]).code, "unknown_snapshot")
        await assertEqual(try await admin.post(path + "/rollback", ["snapshot_id": id, "tenant": "nobody"]).code, "invalid_input")
        let scoped = try await harness.token("incident_commander", tenant: "acme")
        await assertEqual(try await scoped.post(path + "/snapshots", [:]).code, "tenant_forbidden")
        let owner = try await harness.token("retrieval_owner")
        await assertEqual(try await owner.post(path + "/rollback", ["snapshot_id": id]).status, 403, "rollback is a commander's call")
        let other = try await harness.collection(dimension: 8)
        await assertEqual(try await admin.post("/v1/collections/\(other)/rollback", ["snapshot_id": id]).code, "unknown_snapshot",
                          "a snapshot of another collection")

        // A snapshot's verification scan says nothing about what is served: it cannot lift a freeze.
        await assertEqual(try await admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": true]).status, 200)
        let verified = try await admin.post(path + "/snapshots/\(id)/verify", ["threshold": 1_000]).object()
        XCTAssertEqual(verified["clean"] as? Bool, true)
        let scanID = try XCTUnwrap(verified["scan_id"] as? Int)
        await assertEqual((try await admin.get("/v1/scans/\(scanID)").object()["report"] as? [String: Any])?["snapshot_id"] as? String, id)
        await assertEqual(try await admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": false]).code, "scan_required")

        // A damaged file is refused before anything is served, naming the file.
        let listed = try await admin.get(path + "/snapshots").object()["snapshots"] as? [[String: Any]] ?? []
        XCTAssertEqual(listed.count, 1)
        let folder = try XCTUnwrap(snapshotFolder(harness, id: id))
        let graph = folder + "/p0000.hnsw"
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: graph))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: graph))
        let refused = try await admin.post(path + "/rollback", ["snapshot_id": id])
        XCTAssertEqual(refused.code, "snapshot_invalid")
        XCTAssertTrue(refused.problem?.detail.contains("p0000.hnsw") == true, refused.problem?.detail ?? "")
        await assertEqual(try await admin.post(path + "/snapshots/\(id)/verify", [:]).code, "snapshot_invalid")
        await assertEqual(try await admin.get(path).object()["documents"] as? Int, 40, "nothing changed")
        try await harness.stop()
    }

    /// The folder a snapshot was published in (under the harness's snapshot directory).
    private func snapshotFolder(_ harness: Harness, id: String) -> String? {
        let root = Harness.snapshotDirectory
        let collections = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return collections.map { root + "/" + $0 + "/" + id }.first { FileManager.default.fileExists(atPath: $0) }
    }
}
