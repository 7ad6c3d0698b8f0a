import FirebreakAPI
import FirebreakTestSupport
import Foundation
import Server
import XCTest

/// The JSON contract end to end over real HTTP: collections, ingest, the three search modes,
/// fetch, delete, and every kind of bad input answered with a 4xx problem that names it.
final class ContractTests: XCTestCase {
    func testCollectionIngestSearchFetchDelete() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection()
        let admin = harness.admin
        let docs = documents(tenant: "acme", count: 50, dimension: 8, seed: 1)
        let ingest = try await admin.post("/v1/collections/\(collection)/documents", ["documents": docs])
        XCTAssertEqual(ingest.status, 201, String(decoding: ingest.body, as: UTF8.self))
        XCTAssertEqual(try ingest.object()["ingested"] as? Int, 50)

        let status = try await admin.get("/v1/collections/\(collection)").object()
        XCTAssertEqual(status["documents"] as? Int, 50)
        XCTAssertEqual(status["mode"] as? String, "serving")
        XCTAssertEqual(status["tenants"] as? [String], ["acme"])

        // Vector search finds a document's own vector first; lexical finds its words.
        let target = docs[7]
        let vectorIDs = try await admin.searchIDs(collection, ["mode": "vector", "vector": target["embedding"]!, "k": 5, "tenant": "acme"])
        XCTAssertEqual(vectorIDs.first, "acme-7")
        XCTAssertEqual(vectorIDs.count, 5)
        let lexical = try await admin.post("/v1/collections/\(collection)/search",
                                           ["mode": "lexical", "query": target["text"]!, "k": 5, "tenant": "acme"]).object()
        XCTAssertEqual(lexical["mode_used"] as? String, "lexical")
        XCTAssertEqual(lexical["degraded"] as? Bool, false)
        XCTAssertEqual((lexical["results"] as? [[String: Any]])?.count, 5)
        let hybridIDs = try await admin.searchIDs(collection, ["mode": "hybrid", "vector": target["embedding"]!,
                                                              "query": target["text"]!, "k": 5, "tenant": "acme"])
        XCTAssertEqual(hybridIDs.first, "acme-7", "first in both lists is first after fusion")

        let fetched = try await admin.get("/v1/collections/\(collection)/documents/acme-7").object()
        XCTAssertEqual(fetched["text"] as? String, target["text"] as? String)
        XCTAssertEqual((fetched["embedding"] as? [Double])?.count, 8)

        let deleted = try await admin.send("DELETE", "/v1/collections/\(collection)/documents/acme-7")
        XCTAssertEqual(deleted.status, 200)
        await assertEqual(try await admin.get("/v1/collections/\(collection)/documents/acme-7").status, 404)
        let after = try await admin.searchIDs(collection, ["vector": target["embedding"]!, "k": 5, "tenant": "acme"])
        XCTAssertFalse(after.contains("acme-7"))
        XCTAssertEqual(after.count, 5)
        // The id can be used again by a new document.
        let again = try await admin.post("/v1/collections/\(collection)/documents", ["documents": [docs[7]]])
        XCTAssertEqual(again.status, 201)
        try await harness.stop()
    }

    /// Every bad request is a 4xx problem naming the problem, and nothing is half-written.
    func testBadInputIsRefusedAndWritesNothing() async throws {
        var limits = ServerLimits()
        limits.bodyBytesMax = 128 << 10
        limits.kMax = 50
        limits.efMax = 500
        limits.queryBytesMax = 1_000
        limits.quarantineIDsMax = 3
        limits.ingestBatchMax = 1_000_000  // looser than the engine's: clamped to it
        let harness = try await Harness.start(limits: limits)
        let collection = try await harness.collection(dimension: 4)
        let admin = harness.admin
        let path = "/v1/collections/\(collection)"
        let good: [String: Any] = ["id": "ok", "tenant": "acme", "text": "fine", "embedding": [1, 0, 0, 0]]

        func expect(_ status: Int, _ code: String, _ reply: APIClient.Reply, line: UInt = #line) {
            XCTAssertEqual(reply.status, status, String(decoding: reply.body, as: UTF8.self), line: line)
            XCTAssertEqual(reply.code, code, line: line)
            XCTAssertEqual(reply.header("Content-Type"), "application/problem+json", line: line)
        }
        func raw(_ bytes: [UInt8], to route: String = "/documents") async throws -> APIClient.Reply {
            try await admin.send("POST", path + route, json: Data(bytes))
        }
        var bad = good
        bad["id"] = "bad"
        bad["embedding"] = [1, 0, 0]
        expect(400, "dimension_mismatch", try await admin.post(path + "/documents", ["documents": [good, bad]]))
        bad["embedding"] = [1e39, 0, 0, 0]
        expect(400, "malformed_json", try await admin.post(path + "/documents", ["documents": [good, bad]]))
        expect(400, "malformed_json", try await raw(Array(#"{"documents":[{"id":"x","tenant":"a","text":"t","embedding":[NaN,0,0,0]}]}"#.utf8)))
        bad["embedding"] = [0, 0, 0, 0]
        expect(400, "invalid_vector", try await admin.post(path + "/documents", ["documents": [good, bad]]))
        expect(400, "malformed_json", try await raw(Array("{\"documents\": [".utf8)))
        expect(400, "invalid_utf8", try await raw([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]))
        expect(400, "malformed_json", try await admin.post(path + "/documents", ["documents": [["id": "x"]]]))
        expect(409, "duplicate_document", try await admin.post(path + "/documents", ["documents": [good, good]]))
        expect(413, "body_too_large", try await raw(Array(repeating: 0x20, count: 140 << 10)))
        // Nothing of the refused batches was written.
        await assertEqual(try await admin.get(path).object()["documents"] as? Int, 0)

        await assertEqual(try await admin.post(path + "/documents", ["documents": [good]]).status, 201)
        expect(409, "duplicate_document", try await admin.post(path + "/documents", ["documents": [good]]))
        expect(404, "unknown_collection", try await admin.post("/v1/collections/nope-\(getpid())/search", ["query": "x"]))
        expect(404, "unknown_document", try await admin.get(path + "/documents/missing"))
        expect(400, "invalid_input", try await admin.post(path + "/search", ["vector": [1, 0, 0, 0], "k": 0]))
        expect(400, "invalid_input", try await admin.post(path + "/search", ["vector": [1, 0, 0, 0], "k": 100_000]))
        expect(400, "invalid_input", try await admin.post(path + "/search", ["mode": "vector", "query": "x"]))
        expect(400, "invalid_input", try await admin.post(path + "/search", ["mode": "sideways", "query": "x"]))
        expect(400, "query_too_long", try await admin.post(path + "/search", ["query": String(repeating: "a ", count: 40_000)]))
        expect(404, "unknown_document", try await admin.post(path + "/quarantine", ["ids": ["missing"], "reason": "r"]))
        expect(404, "unknown_incident", try await admin.post(path + "/quarantine", ["ids": ["ok"], "reason": "r", "incident_id": "INC-999999"]))
        expect(404, "not_found", try await admin.get("/v1/nothing-here"))
        // The service's own limits, each named, are enforced (and never looser than the engine's).
        let k = try await admin.post(path + "/search", ["vector": [1, 0, 0, 0], "k": 51])
        expect(400, "invalid_input", k)
        XCTAssertTrue((try k.object()["detail"] as? String ?? "").contains("kMax"))
        expect(400, "invalid_input", try await admin.post(path + "/search", ["vector": [1, 0, 0, 0], "ef": 501]))
        expect(400, "query_too_long", try await admin.post(path + "/search", ["query": String(repeating: "a ", count: 600)]))
        expect(400, "invalid_input", try await admin.post(path + "/quarantine", ["ids": ["ok", "a", "b", "c"], "reason": "r"]))
        let many = (0..<1_001).map { ["id": "m\($0)", "tenant": "acme", "text": "t", "embedding": [1, 0, 0, Double($0 + 1)]] }
        expect(400, "invalid_input", try await admin.post(path + "/documents", ["documents": many]))
        // The refused quarantines left the document served.
        await assertEqual(try await admin.searchIDs(collection, ["vector": [1, 0, 0, 0], "k": 1]), ["ok"])
        try await harness.stop()
    }

    func testOpenAPIDocumentListsEveryRouteAndMetricsAreExported() async throws {
        let harness = try await Harness.start()
        let spec = try await harness.client(token: nil).get("/openapi.json").object()
        XCTAssertEqual(spec["openapi"] as? String, "3.1.0")
        let paths = Set((spec["paths"] as? [String: Any] ?? [:]).keys)
        for path in ["/v1/collections", "/v1/collections/{name}", "/v1/collections/{name}/documents",
                     "/v1/collections/{name}/documents/{id}", "/v1/collections/{name}/search",
                     "/v1/collections/{name}/quarantine", "/v1/collections/{name}/quarantine/release",
                     "/v1/collections/{name}/flags/{flag}", "/v1/incidents", "/v1/incidents/{id}",
                     "/v1/incidents/{id}/timeline", "/v1/incidents/{id}/verify", "/v1/incidents/{id}/postmortem",
                     "/v1/incidents/{id}/transition", "/v1/incidents/{id}/decisions", "/v1/incidents/{id}/evidence",
                     "/v1/incidents/{id}/actions", "/v1/incidents/{id}/commander", "/v1/tokens", "/healthz", "/readyz", "/metrics"] {
            XCTAssertTrue(paths.contains(path), "openapi.json lacks \(path)")
        }
        let collection = try await harness.collection(dimension: 4)
        _ = try await harness.admin.post("/v1/collections/\(collection)/documents",
                                         ["documents": [["id": "m", "tenant": "t", "text": "metrics", "embedding": [1, 0, 0, 0]]]])
        _ = try await harness.admin.searchIDs(collection, ["vector": [1, 0, 0, 0], "k": 1])
        let metrics = String(decoding: try await harness.client(token: nil).get("/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("firebreak_search_duration_seconds"), metrics.prefix(500).description)
        XCTAssertTrue(metrics.contains("firebreak_searches_total"))
        XCTAssertTrue(metrics.contains("http_server_request_duration"))
        XCTAssertTrue(metrics.contains("firebreak_retrieval_log_dropped_total"), "exported even while 0")
        XCTAssertTrue(metrics.contains("firebreak_replica_applied_seq"))
        // A refused search is counted with the status its client got (400), not as a 500.
        func searches(status: String) async throws -> Double {
            let text = String(decoding: try await harness.client(token: nil).get("/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").filter {
                $0.hasPrefix("hb_requests") && $0.contains("search") && $0.contains("status_code=\"\(status)\"")
            }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        }
        let (refused, failed) = (try await searches(status: "400"), try await searches(status: "500"))
        let wrong = try await harness.admin.post("/v1/collections/\(collection)/search", ["vector": [1, 0, 0], "k": 1])
        XCTAssertEqual(wrong.status, 400)
        await assertEqual(try await searches(status: "400"), refused + 1)
        await assertEqual(try await searches(status: "500"), failed)
        await assertEqual(try await harness.client(token: nil).get("/readyz").status, 200)
        try await harness.stop()
    }
}
