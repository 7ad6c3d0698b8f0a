@testable import Engine
import FirebreakTestSupport
import Foundation
import Server
import XCTest

/// Scans, the freeze-lift rule, and a partition rebuilt behind the BM25 fallback while the
/// other tenants keep vector search.
final class ContainmentTests: XCTestCase {
    private func waitForJob(_ client: APIClient, _ job: Int, file: StaticString = #filePath, line: UInt = #line)
        async throws -> [String: Any] {
        for _ in 0..<600 {
            let state = try await client.get("/v1/jobs/\(job)").object()
            if ["succeeded", "failed", "cancelled"].contains(state["state"] as? String ?? "") { return state }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("job \(job) did not finish", file: file, line: line)
        return [:]
    }

    func testScanIsStoredAndLiftingAFreezeNeedsACleanScanAfterIt() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 16)
        let path = "/v1/collections/\(collection)"
        let admin = harness.admin
        _ = try await admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 300, dimension: 16, seed: 21)])
        // A scan before the freeze does not count.
        let early = try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 300, "k": 10, "threshold": 1_000])
        XCTAssertEqual(early.status, 200, String(decoding: early.body, as: UTF8.self))
        await assertEqual(try await admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": true]).status, 200)
        let refused = try await admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": false])
        XCTAssertEqual(refused.status, 409)
        XCTAssertEqual(refused.code, "scan_required")
        // A scan with a high z somewhere (threshold 0.5 here) is not clean either.
        let dirty = try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 300, "k": 10, "threshold": 0.5]).object()
        XCTAssertGreaterThan(dirty["max_z"] as? Double ?? 0, 0.5)
        XCTAssertFalse((dirty["flagged"] as? [[String: Any]] ?? []).isEmpty)
        XCTAssertTrue(((dirty["flagged"] as? [[String: Any]])?.first?["id"] as? String)?.hasPrefix("acme-") == true)
        await assertEqual(try await admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": false]).status, 409)
        // A clean scan after the freeze lets it be lifted; the report can be read back.
        let clean = try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 300, "k": 10, "threshold": 1_000]).object()
        let id = try XCTUnwrap(clean["id"] as? Int)
        await assertEqual(try await admin.get("/v1/scans/\(id)").object()["max_z"] as? Double, clean["max_z"] as? Double)
        await assertEqual(try await admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": false]).status, 200)
        await assertEqual(try await admin.get(path).object()["mode"] as? String, "serving")
        try await harness.stop()
    }

    func testRebuildServesBM25ForThatTenantOnlyThenSwapsInACleanGraph() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 16)
        let path = "/v1/collections/\(collection)"
        let admin = harness.admin
        let acme = documents(tenant: "acme", count: 200, dimension: 16, seed: 31)
        let globex = documents(tenant: "globex", count: 200, dimension: 16, seed: 32)
        _ = try await admin.post(path + "/documents", ["documents": acme + globex])
        let quarantined = try await admin.post(path + "/quarantine", ["ids": ["acme-3"], "reason": "hub"]).object()
        let incident = try XCTUnwrap(quarantined["incident_id"] as? String)

        EngineFaults.arm(.rebuildBeforeSwap)
        let started = try await admin.post(path + "/rebuild", ["tenant": "acme", "incident_id": incident, "validate_scan": false])
        XCTAssertEqual(started.status, 202, String(decoding: started.body, as: UTF8.self))
        let job = try XCTUnwrap(try started.object()["job_id"] as? Int)
        // While it runs: acme's vector and hybrid answers come from BM25, marked degraded; no query fails.
        let during = try await admin.post(path + "/search", ["vector": acme[5]["embedding"]!, "query": acme[5]["text"]!,
                                                              "tenant": "acme", "k": 5]).object()
        XCTAssertEqual(during["degraded"] as? Bool, true)
        XCTAssertEqual(during["mode_used"] as? String, "lexical")
        XCTAssertEqual(during["notice"] as? String, CollectionMode.rebuildingNotice)
        XCTAssertEqual((during["results"] as? [[String: Any]])?.count, 5)
        await assertEqual(try await admin.get(path).object()["mode"] as? String, "rebuilding")
        let refused = try await admin.post(path + "/documents", ["documents": [["id": "late", "tenant": "acme", "text": "t",
                                                                              "embedding": Array(repeating: 0.5, count: 16)]]])
        XCTAssertEqual(refused.status, 423)
        // globex keeps full vector search.
        let other = try await admin.post(path + "/search", ["vector": globex[5]["embedding"]!, "tenant": "globex", "k": 5]).object()
        XCTAssertEqual(other["degraded"] as? Bool, false)
        XCTAssertEqual(other["mode_used"] as? String, "vector")
        XCTAssertEqual((other["results"] as? [[String: Any]])?.first?["id"] as? String, "globex-5")
        let running = try await admin.get("/v1/jobs/\(job)").object()
        XCTAssertTrue(["queued", "running"].contains(running["state"] as? String ?? ""), "\(running)")

        EngineFaults.disarm(.rebuildBeforeSwap)
        let finished = try await waitForJob(admin, job)
        XCTAssertEqual(finished["state"] as? String, "succeeded", "\(finished)")
        let after = try await admin.post(path + "/search", ["vector": acme[5]["embedding"]!, "tenant": "acme", "k": 5]).object()
        XCTAssertEqual(after["degraded"] as? Bool, false)
        XCTAssertEqual((after["results"] as? [[String: Any]])?.first?["id"] as? String, "acme-5")
        // The rebuilt graph never holds the quarantined document, and the quarantine still applies.
        let probe = try await admin.searchIDs(collection, ["vector": acme[3]["embedding"]!, "tenant": "acme", "k": 10])
        XCTAssertFalse(probe.contains("acme-3"))
        XCTAssertEqual(probe.count, 10)
        let kinds = (try await admin.get("/v1/incidents/\(incident)/timeline").object()["events"] as! [[String: Any]])
            .compactMap { $0["kind"] as? String }
        XCTAssertTrue(kinds.contains("rebuild_started") && kinds.contains("rebuild_succeeded"), "\(kinds)")
        try await harness.stop()
    }

    func testCancelledRebuildLeavesThePreviousGraphServing() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let admin = harness.admin
        let docs = documents(tenant: "acme", count: 100, dimension: 8, seed: 41)
        _ = try await admin.post(path + "/documents", ["documents": docs])
        EngineFaults.arm(.rebuildBeforeSwap)
        defer { EngineFaults.disarm(.rebuildBeforeSwap) }
        let started = try await admin.post(path + "/rebuild", ["tenant": "acme", "reason": "suspected poisoning"]).object()
        let job = try XCTUnwrap(started["job_id"] as? Int)
        XCTAssertNotNil(started["incident_id"] as? String, "a rebuild without an incident declares one")
        let again = try await admin.post(path + "/rebuild", ["tenant": "acme"])
        XCTAssertEqual(again.status, 409)
        XCTAssertEqual(again.code, "rebuild_running")
        let cancel = try await admin.send("DELETE", "/v1/jobs/\(job)")
        XCTAssertEqual(cancel.status, 200, String(decoding: cancel.body, as: UTF8.self))
        let finished = try await waitForJob(admin, job)
        XCTAssertEqual(finished["state"] as? String, "cancelled")
        let after = try await admin.post(path + "/search", ["vector": docs[1]["embedding"]!, "tenant": "acme", "k": 3]).object()
        XCTAssertEqual(after["degraded"] as? Bool, false)
        XCTAssertEqual((after["results"] as? [[String: Any]])?.first?["id"] as? String, "acme-1")
        await assertEqual(try await admin.send("DELETE", "/v1/jobs/\(job)").code, "job_finished")
        await assertEqual(try await admin.get("/v1/jobs/999999999").status, 404)
        try await harness.stop()
    }
}
