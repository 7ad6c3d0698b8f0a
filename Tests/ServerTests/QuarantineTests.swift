import FirebreakAPI
import FirebreakTestSupport
import Incidents
import Foundation
import Server
import Store
import XCTest

/// Quarantine takes effect at once on every path, lands on an incident with evidence,
/// survives a restart and reaches other replicas.
final class QuarantineTests: XCTestCase {
    func testQuarantineIsEffectiveOnEveryPathTheMomentTheAPIAnswers() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 16)
        let owner = try await harness.token("retrieval_owner")
        let commander = try await harness.token("incident_commander")
        let docs = documents(tenant: "acme", count: 300, dimension: 16, seed: 7)
        await assertEqual(try await owner.post("/v1/collections/\(collection)/documents", ["documents": docs]).status, 201)

        // Quarantine ten documents one at a time; each is gone from every path at once.
        for index in stride(from: 0, to: 100, by: 10) {
            let doc = docs[index]
            let id = doc["id"] as! String
            let vector = doc["embedding"]!
            let text = doc["text"]!
            await assertEqual(try await owner.searchIDs(collection, ["vector": vector, "k": 10, "tenant": "acme"]).first, id)
            let reply = try await owner.post("/v1/collections/\(collection)/quarantine", ["ids": [id], "reason": "planted hub \(id)"])
            XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
            XCTAssertEqual(try reply.object()["quarantined"] as? [String], [id])
            for body: [String: Any] in [["mode": "vector", "vector": vector], ["mode": "lexical", "query": text],
                                        ["mode": "hybrid", "vector": vector, "query": text]] {
                let ids = try await owner.searchIDs(collection, body.merging(["k": 10, "tenant": "acme"]) { a, _ in a })
                XCTAssertFalse(ids.contains(id), "\(body["mode"]!) returned quarantined \(id)")
                XCTAssertEqual(ids.count, 10, "\(body["mode"]!) still returns k results")
            }
            await assertEqual(try await owner.get("/v1/collections/\(collection)/documents/\(id)").status, 404)
        }
        let status = try await owner.get("/v1/collections/\(collection)").object()
        XCTAssertEqual(status["quarantined"] as? Int, 10)
        let listed = try await owner.get("/v1/collections/\(collection)/quarantine").object()["entries"] as? [[String: Any]]
        XCTAssertEqual(listed?.count, 10)

        // A retrieval owner may not release; an incident commander may, and the document returns.
        let first = docs[0]["id"] as! String
        let refused = try await owner.post("/v1/collections/\(collection)/quarantine/release", ["ids": [first], "reason": "false alarm"])
        XCTAssertEqual(refused.status, 403)
        let released = try await commander.post("/v1/collections/\(collection)/quarantine/release", ["ids": [first], "reason": "false alarm"])
        XCTAssertEqual(released.status, 200, String(decoding: released.body, as: UTF8.self))
        XCTAssertEqual(try released.object()["released"] as? [String], [first])
        await assertEqual(try await owner.searchIDs(collection, ["vector": docs[0]["embedding"]!, "k": 3, "tenant": "acme"]).first, first)
        await assertEqual(try await owner.get("/v1/collections/\(collection)/documents/\(first)").status, 200)
        try await harness.stop()
    }

    /// The incident gets the quarantine with the evidence captured before it, and its chain verifies.
    func testQuarantineLandsOnTheIncidentWithEvidence() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 4)
        let admin = harness.admin
        _ = try await admin.post("/v1/collections/\(collection)/documents",
                                 ["documents": [["id": "hub", "tenant": "acme", "text": "buy cheap pills now", "embedding": [1, 1, 1, 1]]]])
        let declared = try await admin.post("/v1/incidents", ["title": "poisoned passage", "severity": "SEV-1",
                                                              "collection": collection, "tenant": "acme"])
        XCTAssertEqual(declared.status, 201, String(decoding: declared.body, as: UTF8.self))
        let incident = try declared.object()["id"] as! String
        let reply = try await admin.post("/v1/collections/\(collection)/quarantine",
                                         ["ids": ["hub"], "reason": "z = 9.1", "incident_id": incident, "scores": ["hub": 9.1]])
        XCTAssertEqual(try reply.object()["incident_id"] as? String, incident)
        let events = try await admin.events(incident)
        let payload = try XCTUnwrap(events.first { $0.kind == .quarantined }).decoded(Quarantined.self)
        XCTAssertEqual(payload.evidenceDocuments, 1)
        XCTAssertEqual(payload.evidenceSHA256?.count, 64)
        XCTAssertEqual(payload.documents.map(\.externalID), ["hub"], "the event names the document by its external id")
        await assertEqual(try await admin.get("/v1/incidents/\(incident)/verify").object()["intact"] as? Bool, true)
        // Snapshot before you mutate: the SEV-1 on a collection was declared holding a snapshot of what
        // was served (the hub included) as its evidence, recorded before the quarantine; it is kept.
        let kinds = events.map(\.kind)
        let forensic = try XCTUnwrap(events.filter { $0.kind == .evidence }.map { try $0.decoded(EvidenceRecorded.self) }
            .first { $0.evidenceKind == "forensic_snapshot" }, "\(kinds)")
        XCTAssertLessThan(try XCTUnwrap(kinds.firstIndex(of: .evidence)), try XCTUnwrap(kinds.firstIndex(of: .quarantined)))
        let snapshotID = String(forensic.location.dropFirst("snapshot ".count))
        let snapshots = try await admin.get("/v1/collections/\(collection)/snapshots").object()["snapshots"] as? [[String: Any]] ?? []
        let held = try XCTUnwrap(snapshots.first { $0["id"] as? String == snapshotID }, "\(snapshots)")
        XCTAssertEqual(held["root_hash"] as? String, forensic.sha256)
        XCTAssertEqual(held["documents"] as? Int, 1)
        XCTAssertThrowsError(try SnapshotRecords.retire(snapshotID, on: TestCluster.owner()), "held while the incident is open")
        // The entry holds the evidence itself: the text, its hash, the embedding's hash, the score.
        let stored = try TestCluster.owner().query("""
            SELECT q.scores::text AS evidence FROM quarantine_entries q JOIN documents d ON d.id = q.document_id
            JOIN collections c ON c.id = d.collection_id WHERE c.name = $1
            """, [.text(collection)])
        let evidence = try JSONSerialization.jsonObject(with: Data(try stored[0].string("evidence").utf8)) as! [String: Any]
        XCTAssertEqual(evidence["text"] as? String, "buy cheap pills now")
        XCTAssertEqual(evidence["score"] as? Double, 9.1)
        XCTAssertEqual((evidence["embedding_sha256"] as? String)?.count, 64)
        let postmortem = String(decoding: try await admin.get("/v1/incidents/\(incident)/postmortem").body, as: UTF8.self)
        XCTAssertTrue(postmortem.contains(incident))
        try await harness.stop()
    }

    /// A restart rebuilds the serving state from PostgreSQL: the quarantine still holds.
    func testQuarantineSurvivesARestart() async throws {
        let first = try await Harness.start()
        let collection = try await first.collection(dimension: 8)
        let docs = documents(tenant: "acme", count: 40, dimension: 8, seed: 3)
        _ = try await first.admin.post("/v1/collections/\(collection)/documents", ["documents": docs])
        _ = try await first.admin.post("/v1/collections/\(collection)/quarantine", ["ids": ["acme-5"], "reason": "hub"])
        try await first.stop()

        let second = try await Harness.start()
        let ids = try await second.admin.searchIDs(collection, ["vector": docs[5]["embedding"]!, "k": 10, "tenant": "acme"])
        XCTAssertFalse(ids.contains("acme-5"))
        XCTAssertEqual(ids.count, 10)
        await assertEqual(try await second.admin.get("/v1/collections/\(collection)").object()["quarantined"] as? Int, 1)
        try await second.stop()
    }

    /// Two replicas over one database: a quarantine through one reaches the other via NOTIFY.
    func testQuarantineReachesAnotherReplica() async throws {
        let a = try await Harness.start()
        let collection = try await a.collection(dimension: 8)
        let docs = documents(tenant: "acme", count: 30, dimension: 8, seed: 4)
        _ = try await a.admin.post("/v1/collections/\(collection)/documents", ["documents": docs])
        let b = try await Harness.start()
        let query: [String: Any] = ["vector": docs[2]["embedding"]!, "k": 5, "tenant": "acme"]
        await assertEqual(try await b.admin.searchIDs(collection, query).first, "acme-2")
        _ = try await a.admin.post("/v1/collections/\(collection)/quarantine", ["ids": ["acme-2"], "reason": "hub"])
        let deadline = Date().addingTimeInterval(5)
        var seen = true
        while Date() < deadline {
            seen = try await b.admin.searchIDs(collection, query).contains("acme-2")
            if !seen { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertFalse(seen, "replica b still serves the quarantined document after 5 s")
        try await a.stop()
        try await b.stop()
    }
}

/// Document ids with reserved characters travel percent-encoded in the path.
final class DocumentPathTests: XCTestCase {
    func testIDsWithSlashesSpacesAndPercentAreFetchedAndDeletedEncoded() async throws {
        let harness = try await Harness.start(replica: "repl-paths")
        let collection = try await harness.collection(dimension: 3)
        let path = "/v1/collections/\(collection)/documents"
        let ids = ["man/ls(1)#3", "a b%c", "ü?x"]
        let ingest = try await harness.admin.post(path, ["documents": ids.enumerated().map { index, id in
            ["id": id, "tenant": "acme", "text": "text \(index)", "embedding": [1, Double(index), 0]]
        }])
        XCTAssertEqual(ingest.status, 201, String(decoding: ingest.body, as: UTF8.self))
        for id in ids {
            let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let fetched = try await harness.admin.get(path + "/" + encoded)
            XCTAssertEqual(fetched.status, 200, "\(id): " + String(decoding: fetched.body, as: UTF8.self))
            XCTAssertEqual(try fetched.object()["id"] as? String, id)
        }
        let deleted = try await harness.admin.send("DELETE", path + "/" + "man/ls(1)#3".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        XCTAssertEqual(deleted.status, 200, String(decoding: deleted.body, as: UTF8.self))
        await assertEqual(try await harness.admin.get(path + "/man%2Fls%281%29%233").status, 404)
        try await harness.stop()
    }
}
