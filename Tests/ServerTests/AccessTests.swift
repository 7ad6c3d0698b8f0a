import Engine
import FirebreakTestSupport
import Foundation
@testable import Server
import Store
import XCTest

/// Authentication, roles, tenant isolation, idempotency and flags, over real HTTP.
final class AccessTests: XCTestCase {
    func testTokensAndRoles() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 4)
        let path = "/v1/collections/\(collection)"
        await assertEqual(try await harness.client(token: nil).get(path).status, 401)
        await assertEqual(try await harness.client(token: "fbk_wrong").get(path).status, 401)
        let reader = try await harness.token("reader")
        let owner = try await harness.token("retrieval_owner")
        let commander = try await harness.token("incident_commander")
        let doc: [String: Any] = ["id": "d", "tenant": "acme", "text": "text", "embedding": [1, 0, 0, 0]]

        await assertEqual(try await reader.post(path + "/documents", ["documents": [doc]]).status, 403)
        await assertEqual(try await owner.post(path + "/documents", ["documents": [doc] + documents(tenant: "acme", count: 30, dimension: 4, seed: 5)]).status, 201)
        await assertEqual(try await reader.searchIDs(collection, ["vector": [1, 0, 0, 0], "k": 1]), ["d"])
        await assertEqual(try await reader.get(path + "/documents/d").status, 200)
        await assertEqual(try await reader.post(path + "/quarantine", ["ids": ["d"], "reason": "r"]).status, 403)
        await assertEqual(try await reader.get(path + "/quarantine").status, 403)
        await assertEqual(try await owner.post("/v1/tokens", ["role": "admin"]).status, 403)
        await assertEqual(try await commander.post("/v1/tokens", ["role": "reader"]).status, 403)

        // Freeze: an owner may set it, only a commander may lift it; ingestion is refused meanwhile.
        let freeze = try await owner.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": true, "reason": "suspected poisoning"])
        XCTAssertEqual(freeze.status, 200, String(decoding: freeze.body, as: UTF8.self))
        let incident = try freeze.object()["incident_id"] as! String
        var second = doc
        second["id"] = "e"
        let frozen = try await owner.post(path + "/documents", ["documents": [second]])
        XCTAssertEqual(frozen.status, 423)
        XCTAssertEqual(frozen.code, "collection_frozen")
        await assertEqual(try await owner.get(path).object()["mode"] as? String, "frozen")
        await assertEqual(try await owner.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": false, "incident_id": incident]).status, 403)
        // Lifting needs a clean scan newer than the freeze (see ContainmentTests for the rule itself).
        await assertEqual(try await commander.post(path + "/scans", ["sample": "documents", "k": 5, "threshold": 1_000]).status, 200)
        await assertEqual(try await commander.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": false, "incident_id": incident]).status, 200)
        await assertEqual(try await owner.post(path + "/documents", ["documents": [second]]).status, 201)
        // The flag changes are on the incident's timeline.
        let kinds = (try await commander.get("/v1/incidents/\(incident)/timeline").object()["events"] as! [[String: Any]])
            .compactMap { $0["kind"] as? String }
        XCTAssertEqual(kinds.filter { $0 == "flag_changed" }.count, 2)

        // Blocking a tenant takes a commander; the blocked tenant is refused, others are not.
        await assertEqual(try await owner.put(path + "/flags/FF_TENANT_BLOCK", ["enabled": true, "tenant": "acme"]).status, 403)
        await assertEqual(try await commander.put(path + "/flags/FF_TENANT_BLOCK", ["enabled": true, "tenant": "acme"]).status, 200)
        let blocked = try await reader.post(path + "/search", ["vector": [1, 0, 0, 0], "tenant": "acme"])
        XCTAssertEqual(blocked.status, 403)
        XCTAssertEqual(blocked.code, "tenant_blocked")
        await assertEqual(try await reader.post(path + "/search", ["vector": [1, 0, 0, 0], "tenant": "other"]).status, 200)
        await assertEqual(try await commander.put(path + "/flags/FF_TENANT_BLOCK", ["enabled": true]).code, "invalid_input")
        try await harness.stop()
    }

    /// 1,000 probes from tenant A's scoped token, on every path, never see tenant B.
    func testTenantsNeverSeeEachOther() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let acmeDocs = documents(tenant: "acme", count: 200, dimension: 8, seed: 11)
        let globexDocs = documents(tenant: "globex", count: 200, dimension: 8, seed: 12)
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": acmeDocs + globexDocs]).status, 201)
        let acme = try await harness.token("reader", tenant: "acme")
        let acmeOwner = try await harness.token("retrieval_owner", tenant: "acme")

        var probes = 0
        var leaked = 0
        for (index, doc) in globexDocs.enumerated() {
            // Aim straight at globex's documents: their exact vectors and their exact texts.
            let modes: [[String: Any]] = [["mode": "vector", "vector": doc["embedding"]!], ["mode": "lexical", "query": doc["text"]!],
                                          ["mode": "hybrid", "vector": doc["embedding"]!, "query": doc["text"]!],
                                          ["mode": "lexical", "query": "globex"], ["mode": "vector", "vector": doc["embedding"]!]]
            let body = modes[index % modes.count].merging(["k": 20]) { a, _ in a }
            let reply = try await acme.post(path + "/search", body)
            XCTAssertEqual(reply.status, 200)
            let results = try reply.object()["results"] as? [[String: Any]] ?? []
            leaked += results.filter { ($0["tenant"] as? String) != "acme" || ($0["id"] as? String)?.hasPrefix("globex") == true }.count
            probes += 1
            // And the fetch path, by id.
            if try await acme.get(path + "/documents/\(doc["id"] as! String)").status != 404 { leaked += 1 }
            probes += 1
        }
        for index in 0..<600 {
            let named = try await acme.post(path + "/search", ["query": "alpha", "tenant": index % 2 == 0 ? "globex" : "acme", "k": 5])
            if index % 2 == 0 {
                XCTAssertEqual(named.status, 403)
                XCTAssertEqual(named.code, "tenant_forbidden")
            } else {
                leaked += (try named.object()["results"] as? [[String: Any]] ?? []).filter { ($0["tenant"] as? String) != "acme" }.count
            }
            probes += 1
        }
        XCTAssertGreaterThanOrEqual(probes, 1_000)
        XCTAssertEqual(leaked, 0)
        // A scoped owner cannot write into, quarantine in or even name another tenant.
        let foreign = try await acmeOwner.post(path + "/documents", ["documents": [["id": "x", "tenant": "globex", "text": "t",
                                                                                  "embedding": [1, 0, 0, 0, 0, 0, 0, 0]]]])
        XCTAssertEqual(foreign.status, 403)
        await assertEqual(try await acmeOwner.post(path + "/quarantine", ["ids": ["globex-1"], "reason": "r"]).status, 404)
        let status = try await acme.get(path).object()
        XCTAssertEqual(status["tenants"] as? [String], ["acme"])
        XCTAssertEqual(status["documents"] as? Int, 200)

        // Ids are unique per tenant: an id globex uses is free for acme (no "already exists" to
        // learn from), and each tenant reads its own document under it.
        let reused = try await acmeOwner.post(path + "/documents", ["documents": [["id": "globex-1", "tenant": "acme", "text": "acme's own",
                                                                                  "embedding": [1, 0, 0, 0, 0, 0, 0, 0]]]])
        XCTAssertEqual(reused.status, 201, String(decoding: reused.body, as: UTF8.self))
        await assertEqual(try await acme.get(path + "/documents/globex-1").object()["text"] as? String, "acme's own")
        let globex = try await harness.token("reader", tenant: "globex")
        await assertEqual(try await globex.get(path + "/documents/globex-1").object()["tenant"] as? String, "globex")
        // An unscoped caller names such a document with its tenant.
        let ambiguous = try await harness.admin.get(path + "/documents/globex-1")
        XCTAssertEqual(ambiguous.status, 400)
        XCTAssertTrue(ambiguous.problem?.detail.contains("acme, globex") ?? false, String(decoding: ambiguous.body, as: UTF8.self))
        await assertEqual(try await harness.admin.get(path + "/documents/globex-1?tenant=acme").object()["text"] as? String, "acme's own")
        await assertEqual(try await acmeOwner.send("DELETE", path + "/documents/globex-1").status, 200)
        await assertEqual(try await globex.get(path + "/documents/globex-1").status, 200, "acme's delete touched only its own")
        await assertEqual(try await acme.get(path + "/documents/globex-1").status, 404)

        // Nor name another tenant's incident, nor an unscoped one: 404, as if it did not exist,
        // and nothing is quarantined. Its own open incident is the default it joins.
        let globexIncident = try await harness.admin.post("/v1/incidents", ["title": "globex's", "severity": "SEV-3", "tenant": "globex"])
        let unscoped = try await harness.admin.post("/v1/incidents", ["title": "everyone's", "severity": "SEV-3"])
        for other in [globexIncident, unscoped] {
            let id = try XCTUnwrap(try other.object()["id"] as? String)
            let named = try await acmeOwner.post(path + "/quarantine", ["ids": ["acme-1"], "reason": "r", "incident_id": id])
            XCTAssertEqual(named.status, 404, String(decoding: named.body, as: UTF8.self))
            XCTAssertEqual(named.code, "unknown_incident")
            let flagged = try await acmeOwner.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": true, "tenant": "acme", "incident_id": id])
            XCTAssertEqual(flagged.status, 404)
        }
        await assertEqual(try await acme.get(path).object()["quarantined"] as? Int, 0)
        let own = try await acmeOwner.post(path + "/quarantine", ["ids": ["acme-1"], "reason": "r"])
        XCTAssertEqual(own.status, 200, String(decoding: own.body, as: UTF8.self))
        let ownIncident = try XCTUnwrap(try own.object()["incident_id"] as? String)
        await assertEqual(try await acmeOwner.get("/v1/incidents/\(ownIncident)").status, 200, "the incident it went on is its own")
        try await harness.stop()
    }

    /// A request that cannot get a database connection in time is 503 `busy` with Retry-After,
    /// through either path the error takes.
    func testAnExhaustedPoolIsBusyWithRetryAfter() {
        for error in [Problem.from(StoreError(.poolExhausted, "all 8 connections busy")),
                      Problem.from(EngineError(.busy, "all 8 connections busy"))] {
            XCTAssertEqual(error.status.code, 503)
            XCTAssertEqual(error.code, .busy)
            XCTAssertEqual(error.headers[.retryAfter], "1")
        }
    }

    func testIdempotencyKeys() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 4)
        let path = "/v1/collections/\(collection)/documents"
        let admin = harness.admin
        let body: [String: Any] = ["documents": [["id": "once", "tenant": "acme", "text": "t", "embedding": [1, 0, 0, 0]]]]
        let data = try JSONSerialization.data(withJSONObject: body)

        let first = try await admin.send("POST", path, json: data, idempotencyKey: "key-1")
        XCTAssertEqual(first.status, 201)
        let replay = try await admin.send("POST", path, json: data, idempotencyKey: "key-1")
        XCTAssertEqual(replay.status, 201, "a replay returns the stored response, not a duplicate error")
        XCTAssertEqual(replay.header("Idempotent-Replayed"), "true")
        XCTAssertEqual(replay.body, first.body, "byte for byte")
        XCTAssertEqual(replay.header("Firebreak-Seq"), first.header("Firebreak-Seq"))
        XCTAssertNotNil(replay.header("Firebreak-Seq"))
        XCTAssertEqual(try replay.object()["ids"] as? [String], ["once"])
        await assertEqual(try await admin.get("/v1/collections/\(collection)").object()["documents"] as? Int, 1)

        let other = try JSONSerialization.data(withJSONObject: ["documents": [["id": "twice", "tenant": "acme", "text": "t",
                                                                               "embedding": [0, 1, 0, 0]]]])
        let reused = try await admin.send("POST", path, json: other, idempotencyKey: "key-1")
        XCTAssertEqual(reused.status, 422)
        XCTAssertEqual(reused.code, "idempotency_key_reused")
        let missing = try await admin.send("POST", path, json: other, headers: ["Idempotency-Key": ""])
        XCTAssertEqual(missing.status, 400)
        XCTAssertEqual(missing.code, "idempotency_key_required")
        await assertEqual(try await admin.get("/v1/collections/\(collection)").object()["documents"] as? Int, 1)

        // The key is a row in PostgreSQL: in flight on another replica, it is refused here; taken
        // effect without a stored response, a retry is refused rather than acting twice.
        let owner = try TestCluster.owner()
        let tokenDigest = TokenRecords.digest(Harness.adminToken)
        let digest = IdempotencyClaim.requestDigest(method: "POST", path: path, body: other)
        XCTAssertEqual(try IdempotencyRecords.claim(tokenDigest: tokenDigest, key: "key-2", requestSHA256: digest, on: owner), .claimed)
        let running = try await admin.send("POST", path, json: other, idempotencyKey: "key-2")
        XCTAssertEqual(running.status, 409)
        XCTAssertEqual(running.code, "idempotency_key_in_use")
        try owner.transaction { try IdempotencyRecords.markCommitted(tokenDigest: tokenDigest, key: "key-2", seq: 99, on: $0) }
        let committed = try await admin.send("POST", path, json: other, idempotencyKey: "key-2")
        XCTAssertEqual(committed.status, 409)
        XCTAssertEqual(committed.code, "idempotency_key_committed")
        XCTAssertTrue(String(decoding: committed.body, as: UTF8.self).contains("at seq 99"))
        await assertEqual(try await admin.get("/v1/collections/\(collection)").object()["documents"] as? Int, 1, "nothing acted twice")
        // A refusal is the answer too: its replay is the same problem, byte for byte.
        let unknown = try await admin.send("POST", "/v1/collections/nope-\(getpid())/documents", json: other, idempotencyKey: "key-3")
        XCTAssertEqual(unknown.status, 404)
        let again = try await admin.send("POST", "/v1/collections/nope-\(getpid())/documents", json: other, idempotencyKey: "key-3")
        XCTAssertEqual(again.body, unknown.body)
        XCTAssertEqual(again.header("Idempotent-Replayed"), "true")
        try await harness.stop()
    }
}

/// The role matrix, without a server.
final class RoleTests: XCTestCase {
    func testRoleMatrix() throws {
        let allowed: [Role: Set<Permission>] = [
            .reader: [.read],
            .retrievalOwner: [.read, .write, .contain, .inspect],
            .incidentCommander: [.read, .contain, .command, .inspect],
            .admin: Set(Permission.allCases),
        ]
        for role in Role.allCases {
            for permission in Permission.allCases {
                XCTAssertEqual(role.may(permission), allowed[role]!.contains(permission), "\(role) \(permission)")
            }
        }
        let scoped = Caller(tokenID: 1, tokenDigest: "d", role: .reader, tenant: "acme")
        XCTAssertEqual(try scoped.tenant(requested: nil), "acme")
        XCTAssertEqual(try scoped.tenant(requested: "acme"), "acme")
        XCTAssertThrowsError(try scoped.tenant(requested: "globex"))
        let unscoped = Caller(tokenID: 2, tokenDigest: "e", role: .admin, tenant: nil)
        XCTAssertNil(try unscoped.tenant(requested: nil))
        XCTAssertEqual(try unscoped.tenant(requested: "globex"), "globex")
    }
}
