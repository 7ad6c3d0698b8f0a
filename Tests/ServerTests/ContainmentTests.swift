@testable import Engine
import FirebreakAPI
import FirebreakTestSupport
import Foundation
import Incidents
import Server
import Store
import XCTest
#if canImport(Glibc)
import Glibc
#endif

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
        // While it runs: acme's hybrid answers fuse BM25 with an exact vector scan, its vector-only
        // answers are the exact scan (never empty, as a RAG client sending only vectors needs),
        // both marked degraded; no query fails and the quarantined document never appears.
        let during = try await admin.post(path + "/search", ["vector": acme[5]["embedding"]!, "query": acme[5]["text"]!,
                                                              "tenant": "acme", "k": 5]).object()
        XCTAssertEqual(during["degraded"] as? Bool, true)
        XCTAssertEqual(during["mode_used"] as? String, "hybrid")
        XCTAssertEqual(during["notice"] as? String, CollectionMode.rebuildingNotice)
        XCTAssertEqual((during["results"] as? [[String: Any]])?.count, 5)
        for row in [3, 5, 77] {
            let vectorOnly = try await admin.post(path + "/search", ["vector": acme[row]["embedding"]!, "tenant": "acme", "k": 10]).object()
            let ids = (vectorOnly["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            XCTAssertEqual(vectorOnly["degraded"] as? Bool, true)
            XCTAssertEqual(vectorOnly["mode_used"] as? String, "vector")
            XCTAssertEqual(ids.count, 10)
            XCTAssertFalse(ids.contains("acme-3"), "a quarantined document is never served")
            if row != 3 { XCTAssertEqual(ids.first, "acme-\(row)", "the exact scan finds the document itself first") }
        }
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
        let events = try await admin.get("/v1/incidents/\(incident)/timeline").object()["events"] as! [[String: Any]]
        let kinds = events.compactMap { $0["kind"] as? String }
        XCTAssertTrue(kinds.contains("rebuild_started") && kinds.contains("rebuild_succeeded"), "\(kinds)")
        // The scan that does not gate ran after the swap: its findings and its time are on the
        // event beside the time the partition answered degraded, which does not include it.
        let ended = try XCTUnwrap(events.last { $0["kind"] as? String == "rebuild_succeeded" }?["payload"] as? [String: Any])
        let checks = try XCTUnwrap((ended["validation"] as? [String: Any])?["acme"] as? [String: Any], "\(ended)")
        for key in ["self_recall", "scan_max_z", "scan_flagged", "scan_seconds", "degraded_seconds", "load_seconds", "graph_seconds"] {
            XCTAssertNotNil(checks[key], "\(key) in \(checks)")
        }
        XCTAssertNil(checks["scan_error"], "\(checks)")
        try await harness.stop()
    }

    /// Golden queries: a baseline measured when stored, and every rebuild held to it over the
    /// queries still answerable (a quarantined answer leaves its query out).
    func testRebuildIsHeldToTheGoldenQueriesBaseline() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 16)
        let path = "/v1/collections/\(collection)"
        let acme = documents(tenant: "acme", count: 200, dimension: 16, seed: 41)
        await assertEqual(try await admin.post(path + "/documents", ["documents": acme]).status, 201)
        await assertEqual(try await admin.get(path + "/golden-queries").code, "no_golden_queries")
        await assertEqual(try await admin.put(path + "/golden-queries", ["queries": []]).code, "invalid_input")
        await assertEqual(try await admin.put(path + "/golden-queries", ["queries": [["tenant": "nobody", "vector": acme[0]["embedding"]!,
                                                                                       "relevant": ["acme-0"]]]]).code, "invalid_input")
        let golden = (0..<20).map { ["tenant": "acme", "vector": acme[$0]["embedding"]!, "relevant": ["acme-\($0)"]] as [String: Any] }
        let stored = try await admin.put(path + "/golden-queries", ["queries": golden])
        XCTAssertEqual(stored.status, 200, String(decoding: stored.body, as: UTF8.self))
        XCTAssertEqual(try stored.object()["baseline_mrr"] as? Double ?? 0, 1, accuracy: 0.01)
        await assertEqual(try await admin.get(path + "/golden-queries").object()["queries"] as? Int, 20)

        let quarantined = try await admin.post(path + "/quarantine", ["ids": ["acme-0"], "reason": "hub"]).object()
        let incident = try XCTUnwrap(quarantined["incident_id"] as? String)
        let started = try await admin.post(path + "/rebuild", ["tenant": "acme", "incident_id": incident]).object()
        let finished = try await waitForJob(admin, try XCTUnwrap(started["job_id"] as? Int))
        XCTAssertEqual(finished["state"] as? String, "succeeded", "\(finished)")
        let events = try await admin.events(incident)
        let ended = try XCTUnwrap(events.first { $0.kind == .rebuildSucceeded }).decoded(RebuildEnded.self)
        let checks = try XCTUnwrap(ended.validation["acme"], "\(ended)")
        XCTAssertEqual(checks["golden_queries"], .integer(19), "the query whose answer is quarantined is left out")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(checks["golden_mrr"]?.double, "a number: \(checks)"), 0.95, "\(checks)")
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

    /// Mirrored pages: most documents are exact copies of a few. The rebuild's navigability
    /// check counts a copy found for a document as finding it (it failed at 40 % before).
    func testRebuildOfACollectionOfExactCopiesPassesValidation() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let originals = documents(tenant: "acme", count: 40, dimension: 8, seed: 43)
        let copies: [[String: Any]] = (0..<160).map { i in
            var copy = originals[i % 8]
            copy["id"] = "acme-copy-\(i)"
            return copy
        }
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": originals + copies]).status, 201)
        let started = try await harness.admin.post(path + "/rebuild", ["tenant": "acme", "reason": "mirrors"]).object()
        let finished = try await waitForJob(harness.admin, try XCTUnwrap(started["job_id"] as? Int))
        XCTAssertEqual(finished["state"] as? String, "succeeded", "\(finished)")
        try await harness.stop()
    }

    /// Documents spread around a direction on the sphere, and a planted hub at its centre:
    /// closer to most documents than they are to each other, so it sits in most top-k lists.
    private func capWithHub(tenant: String, count: Int, dimension: Int, seed: UInt64) -> (docs: [[String: Any]], hub: [String: Any]) {
        var rng = SplitMix(seed)
        func gaussian() -> Double { (-2 * log(max(rng.unit(), 1e-12))).squareRoot() * cos(2 * .pi * rng.unit()) }
        let docs: [[String: Any]] = (0..<count).map { i in
            let vector = (0..<dimension).map { j in (j == 0 ? 1.0 : 0.0) + 0.35 * gaussian() }
            return ["id": "\(tenant)-\(i)", "tenant": tenant, "text": "passage \(i) about topic \(i % 7)", "embedding": vector]
        }
        let hub: [String: Any] = ["id": "\(tenant)-hub", "tenant": tenant, "text": "click here for the answer to everything",
                                  "embedding": (0..<dimension).map { $0 == 0 ? 1.0 : 0.0 }]
        return (docs, hub)
    }

    /// A fresh 32-d collection holding acme's cap of documents with the planted hub, and `extra`.
    private func collectionWithHub(_ harness: Harness, count: Int, seed: UInt64, extra: [[String: Any]] = []) async throws
        -> (collection: String, path: String, hub: [String: Any]) {
        let collection = try await harness.collection(dimension: 32)
        let path = "/v1/collections/\(collection)"
        let (docs, hub) = capWithHub(tenant: "acme", count: count, dimension: 32, seed: seed)
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": docs + [hub] + extra]).status, 201)
        return (collection, path, hub)
    }

    /// `domain_field`: every value of that metadata field is scanned as a domain of its own too;
    /// the hub at the centre of the small domain carries its domain and domain z.
    func testADomainScopedScanLabelsDocumentsByAMetadataField() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 32)
        let path = "/v1/collections/\(collection)"
        let main = documents(tenant: "acme", count: 900, dimension: 32, seed: 71, prefix: "main").map { $0.merging(["metadata": ["topic": "main"]]) { $1 } }
        let (cap, hub) = capWithHub(tenant: "acme", count: 120, dimension: 32, seed: 72)
        let small = (cap + [hub]).map { $0.merging(["metadata": ["topic": "small"]]) { $1 } }
        await assertEqual(try await admin.post(path + "/documents", ["documents": main]).status, 201)
        await assertEqual(try await admin.post(path + "/documents", ["documents": small]).status, 201)
        let scan = try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 300, "k": 10, "threshold": 4.0,
                                                           "tenant": "acme", "domain_field": "topic"])
        XCTAssertEqual(scan.status, 200, String(decoding: scan.body, as: UTF8.self))
        let flagged = try scan.object()["flagged"] as? [[String: Any]] ?? []
        let entry = try XCTUnwrap(flagged.first { $0["id"] as? String == "acme-hub" }, "\(flagged)")
        XCTAssertEqual((entry["explanation"] as? [String: Any])?["domain"] as? String, "small")
        let domainZ = try XCTUnwrap((entry["detectors"] as? [String: Any])?["domain_z"] as? Double)
        XCTAssertGreaterThan(domainZ, 4)
        await assertEqual(try await admin.post(path + "/scans", ["domain_field": "", "tenant": "acme"]).code, "invalid_input")
        try await harness.stop()
    }

    /// The ingest screen: after a scan, a new document that would enter the top-k of most
    /// sampled queries is reported; with an auto-contain schedule it is held on arrival, never
    /// served, under an incident, while the honest documents of the same batch serve.
    func testTheIngestScreenReportsAHubAndHoldsItOnArrivalUnderAutoContain() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 32)
        let path = "/v1/collections/\(collection)"
        let (docs, hub) = capWithHub(tenant: "acme", count: 400, dimension: 32, seed: 61)
        await assertEqual(try await admin.post(path + "/documents", ["documents": docs]).status, 201)
        let unscreened = try await admin.post(path + "/documents", ["documents": [["id": "early", "tenant": "acme", "text": "t",
                                                                                 "embedding": docs[3]["embedding"]!]]]).object()
        XCTAssertEqual((unscreened["screened"] as? [Any])?.count, 0, "no scan yet: nothing to screen against")
        let scan = try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 400, "k": 10, "threshold": 4.0,
                                                           "tenant": "acme"])
        XCTAssertEqual(scan.status, 200, String(decoding: scan.body, as: UTF8.self))

        // Reported, not held: no auto-contain schedule.
        let reported = try await admin.post(path + "/documents", ["documents": [hub]]).object()
        let screened = try XCTUnwrap((reported["screened"] as? [[String: Any]])?.first, "\(reported)")
        XCTAssertEqual(screened["id"] as? String, "acme-hub")
        XCTAssertGreaterThanOrEqual(screened["z"] as? Double ?? 0, 4)
        XCTAssertGreaterThan(screened["would_enter_top_k"] as? Int ?? 0, 100, "about 10 for a typical document")
        XCTAssertEqual(reported["held"] as? [String], [])
        await assertEqual(try await admin.searchIDs(collection, ["vector": hub["embedding"]!, "tenant": "acme", "k": 1]), ["acme-hub"])

        // Held: an auto-contain schedule is enabled (hourly, so it does not run in this test).
        await assertEqual(try await admin.put(path + "/scan-schedule", ["every_seconds": 3_600, "policy": "auto-contain",
                                                                        "threshold": 4.0]).status, 200)
        var second = hub
        second["id"] = "acme-hub-2"
        let honest: [String: Any] = ["id": "acme-new", "tenant": "acme", "text": "an honest passage", "embedding": docs[5]["embedding"]!]
        let held = try await admin.post(path + "/documents", ["documents": [second, honest]]).object()
        XCTAssertEqual(held["ingested"] as? Int, 2)
        XCTAssertEqual(held["held"] as? [String], ["acme-hub-2"], "\(held)")
        let incident = try XCTUnwrap(held["incident_id"] as? String)
        let results = try await admin.searchIDs(collection, ["vector": hub["embedding"]!, "tenant": "acme", "k": 50])
        XCTAssertFalse(results.contains("acme-hub-2"), "held on arrival: never served")
        await assertEqual(try await admin.get(path + "/documents/acme-hub-2").status, 404)
        await assertEqual(try await admin.get(path + "/documents/acme-new").status, 200)
        let entries = try await admin.get(path + "/quarantine").object()["entries"] as? [[String: Any]] ?? []
        let entry = try XCTUnwrap(entries.first { $0["id"] as? String == "acme-hub-2" })
        XCTAssertEqual(entry["incident_id"] as? String, incident)
        XCTAssertTrue((entry["reason"] as? String ?? "").hasPrefix("ingest screen"), "\(entry)")
        await assertEqual(try await admin.get("/v1/incidents/\(incident)").object()["severity"] as? String, "SEV-1")
        try await harness.stop()
    }

    func testAutoContainQuarantinesFreezesRebuildsAndRecordsEachStep() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let bystanders = documents(tenant: "globex", count: 100, dimension: 32, seed: 52)
        let (collection, path, hub) = try await collectionWithHub(harness, count: 400, seed: 51, extra: bystanders)
        let scanBody: [String: Any] = ["sample": "documents", "sample_size": 501, "k": 10, "threshold": 4.0, "tenant": "acme"]

        // alert: an incident with the scan as evidence, nothing else.
        let alerted = try await admin.post(path + "/scans", scanBody.merging(["policy": "alert"]) { $1 }).object()
        XCTAssertTrue((alerted["flagged"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == "acme-hub" }, "\(alerted["flagged"] ?? "")")
        let alertIncident = try XCTUnwrap((alerted["containment"] as? [String: Any])?["incident_id"] as? String)
        XCTAssertEqual((alerted["containment"] as? [String: Any])?["quarantined"] as? [String], [])
        await assertEqual(try await admin.get("/v1/incidents/\(alertIncident)").object()["severity"] as? String, "SEV-1")
        await assertEqual(try await admin.searchIDs(collection, ["vector": hub["embedding"]!, "tenant": "acme", "k": 1]), ["acme-hub"])

        // auto-contain: quarantined, frozen, rebuilding, contained, each step on the timeline.
        let reader = try await harness.token("retrieval_owner")
        let forbidden = try await reader.post(path + "/scans", scanBody.merging(["policy": "auto-contain"]) { $1 })
        XCTAssertEqual(forbidden.status, 403, "auto-contain quarantines by itself: commanders and admins only")
        let contained = try await admin.post(path + "/scans", scanBody.merging(["policy": "auto-contain"]) { $1 }).object()
        let containment = try XCTUnwrap(contained["containment"] as? [String: Any])
        let incident = try XCTUnwrap(containment["incident_id"] as? String)
        let quarantined = containment["quarantined"] as? [String] ?? []
        XCTAssertTrue(quarantined.contains("acme-hub"))
        let flaggedAbove = (contained["flagged"] as? [[String: Any]] ?? []).filter { ($0["z"] as? Double ?? 0) >= 4 }
        XCTAssertEqual(Set(quarantined), Set(flaggedAbove.compactMap { $0["id"] as? String }))
        XCTAssertEqual(containment["frozen_tenants"] as? [String], ["acme"])
        let afterContainment = try await admin.searchIDs(collection, ["vector": hub["embedding"]!, "tenant": "acme", "k": 10])
        XCTAssertFalse(afterContainment.contains("acme-hub"))
        let incidentBody = try await admin.get("/v1/incidents/\(incident)").object()
        XCTAssertEqual(incidentBody["status"] as? String, "contained")
        let kinds = (try await admin.get("/v1/incidents/\(incident)/timeline").object()["events"] as! [[String: Any]])
            .compactMap { $0["kind"] as? String }
        for kind in ["declared", "evidence", "quarantined", "flag_changed", "rebuild_started", "transitioned"] {
            XCTAssertTrue(kinds.contains(kind), "timeline lacks \(kind): \(kinds)")
        }
        await assertEqual(try await admin.get("/v1/incidents/\(incident)/verify").object()["intact"] as? Bool, true)
        let job = try XCTUnwrap((containment["rebuild_jobs"] as? [Int])?.first)
        let finished = try await waitForJob(admin, job)
        XCTAssertEqual(finished["state"] as? String, "succeeded", "\(finished)")
        // globex was never touched.
        let other = try await admin.post(path + "/search", ["vector": bystanders[0]["embedding"]!, "tenant": "globex", "k": 3]).object()
        XCTAssertEqual(other["degraded"] as? Bool, false)
        let frozen = try await admin.post(path + "/documents", ["documents": [["id": "late", "tenant": "acme", "text": "t",
                                                                             "embedding": Array(repeating: 0.1, count: 32)]]])
        XCTAssertEqual(frozen.status, 423, "the tenant stays frozen until a commander lifts it after a clean scan")
        try await harness.stop()
    }

    func testScanScheduleIsValidatedAndStored() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)/scan-schedule"
        let ok = try await harness.admin.put(path, ["every_seconds": 3_600, "policy": "alert", "threshold": 6.0])
        XCTAssertEqual(ok.status, 200, String(decoding: ok.body, as: UTF8.self))
        await assertEqual(try await harness.admin.put(path, ["every_seconds": 1, "policy": "alert"]).code, "invalid_input")
        await assertEqual(try await harness.admin.put(path, ["every_seconds": 60, "policy": "panic"]).code, "invalid_input")
        // Settings out of range are refused when the schedule is put, not every time it runs.
        for bad: [String: Any] in [["budget": 1], ["budget": 7], ["threshold": -1], ["k": 0], ["sample_size": 0]] {
            let refused = try await harness.admin.put(path, bad.merging(["every_seconds": 60, "policy": "alert"]) { a, _ in a })
            XCTAssertEqual(refused.code, "invalid_input", "\(bad): \(String(decoding: refused.body, as: UTF8.self))")
        }
        let owner = try await harness.token("retrieval_owner")
        await assertEqual(try await owner.put(path, ["every_seconds": 60, "policy": "auto-contain"]).status, 403)
        try await harness.stop()
    }

    /// The status follows reality: not resolved while a flagged document is served or a
    /// partition still answers from the fallback.
    func testAnIncidentCannotBeResolvedWhileAFlaggedDocumentIsServedOrAnswersAreDegraded() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let (_, path, _) = try await collectionWithHub(harness, count: 300, seed: 61)
        let alerted = try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 301, "k": 10, "threshold": 4.0,
                                                             "tenant": "acme", "policy": "alert"]).object()
        let incident = try XCTUnwrap((alerted["containment"] as? [String: Any])?["incident_id"] as? String)
        let flagged = (alerted["flagged"] as? [[String: Any]] ?? []).filter { ($0["z"] as? Double ?? 0) >= 4 }
            .compactMap { $0["id"] as? String }
        XCTAssertTrue(flagged.contains("acme-hub"))
        let transition = "/v1/incidents/\(incident)/transition"
        await assertEqual(try await admin.post(transition, ["status": "mitigated", "reason": "looked into it"]).status, 200)
        let served = try await admin.post(transition, ["status": "resolved", "reason": "done?"])
        XCTAssertEqual(served.status, 409)
        XCTAssertEqual(served.code, "incident_not_resolvable")
        XCTAssertTrue(served.problem?.detail.contains("acme-hub") == true, served.problem?.detail ?? "")
        // The CLI's direct-database path (`firebreak incident transition`) runs the same rule.
        let direct = try TestCluster.owner()
        XCTAssertThrowsError(try IncidentService.transition(incident, to: .resolved, reason: "from the CLI", actor: "cli", on: direct)) {
            XCTAssertEqual(($0 as? EngineError)?.code, .incidentNotResolvable, "\($0)")
        }

        await assertEqual(try await admin.post(path + "/quarantine", ["ids": flagged, "reason": "flagged", "incident_id": incident]).status, 200)
        EngineFaults.arm(.rebuildBeforeSwap)
        let started = try await admin.post(path + "/rebuild", ["tenant": "acme", "incident_id": incident]).object()
        let job = try XCTUnwrap(started["job_id"] as? Int)
        let degraded = try await admin.post(transition, ["status": "resolved", "reason": "done?"])
        XCTAssertEqual(degraded.code, "incident_not_resolvable")
        XCTAssertTrue(degraded.problem?.detail.contains("degraded") == true, degraded.problem?.detail ?? "")
        XCTAssertThrowsError(try IncidentService.transition(incident, to: .resolved, reason: "from the CLI", actor: "cli", on: direct)) {
            XCTAssertEqual(($0 as? EngineError)?.code, .incidentNotResolvable, "\($0)")
        }
        EngineFaults.disarm(.rebuildBeforeSwap)
        await assertEqual(try await waitForJob(admin, job)["state"] as? String, "succeeded")
        let resolved = try await admin.post(transition, ["status": "resolved", "reason": "hub quarantined, graph rebuilt"])
        XCTAssertEqual(resolved.status, 200, String(decoding: resolved.body, as: UTF8.self))
        try await harness.stop()
    }
}

/// A scan report stored in a shape this build cannot read (written before round 1 fixed its
/// fields) is named as such, not as a retryable store failure; the resolution gate refuses on
/// it with the same reason (fail closed: "run a new scan").
final class UnreadableScanReportTests: XCTestCase {
    func testAnOldReportIsNamedAndBlocksResolutionUntilANewScan() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let name = try await harness.collection()
        let collectionID = try harness.server.collections.named(name).configuration.id
        let old = try ScanReportRecords.insert(collectionID: collectionID, tenant: nil,
                                               reportJSON: #"{"flagged":[],"distribution":{"max_z":1.0}}"#, maxZ: 1.0,
                                               on: TestCluster.owner())
        let read = try await admin.get("/v1/scans/\(old)")
        XCTAssertEqual(read.status, 409)
        XCTAssertEqual(read.code, "scan_report_unreadable")
        XCTAssertTrue(read.problem?.detail.contains("run a new scan") == true, read.problem?.detail ?? "")

        let declared = try await admin.post("/v1/incidents", ["title": "old report", "severity": "SEV-2", "collection": name])
        let incident = try XCTUnwrap(try declared.object()["id"] as? String)
        await assertEqual(try await admin.post("/v1/incidents/\(incident)/transition",
                                               ["status": "mitigated", "reason": "held"]).status, 200)
        let resolved = try await admin.post("/v1/incidents/\(incident)/transition", ["status": "resolved", "reason": "done?"])
        XCTAssertEqual(resolved.code, "scan_report_unreadable", String(decoding: resolved.body, as: UTF8.self))
        try await harness.stop()
    }
}

/// A rebuild that fails the golden-query gate keeps the previous graph and declares the
/// regression as what it is: a SEV-3 `retrieval` incident on the collection and tenant, named
/// by a decision on the rebuild's own (corpus) incident.
extension ContainmentTests {
    func testAGoldenQueryRegressionIsARetrievalIncident() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 16)
        let path = "/v1/collections/\(collection)"
        let acme = documents(tenant: "acme", count: 120, dimension: 16, seed: 43)
        await assertEqual(try await admin.post(path + "/documents", ["documents": acme]).status, 201)
        let golden = (0..<10).map { ["tenant": "acme", "vector": acme[$0]["embedding"]!, "relevant": ["acme-\($0)"]] as [String: Any] }
        await assertEqual(try await admin.put(path + "/golden-queries", ["queries": golden]).status, 200)
        let quarantined = try await admin.post(path + "/quarantine", ["ids": ["acme-50"], "reason": "hub"]).object()
        let incident = try XCTUnwrap(quarantined["incident_id"] as? String)

        EngineFaults.arm(.goldenRegression)
        defer { EngineFaults.disarm(.goldenRegression) }
        let started = try await admin.post(path + "/rebuild", ["tenant": "acme", "incident_id": incident]).object()
        let finished = try await waitForJob(admin, try XCTUnwrap(started["job_id"] as? Int))
        XCTAssertEqual(finished["state"] as? String, "failed", "\(finished)")

        var decided: DecisionRecorded?
        for _ in 0..<100 where decided == nil {
            decided = try await admin.events(incident).filter { $0.kind == .decision }.compactMap { try? $0.decoded(DecisionRecorded.self) }
                .first { $0.what.contains("(retrieval)") }
            if decided == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let decision = try XCTUnwrap(decided, "the rebuild's incident names the retrieval incident")
        let retrievalID = try XCTUnwrap(decision.what.range(of: "INC-[0-9]+", options: .regularExpression).map { String(decision.what[$0]) })
        let retrieval = try await admin.get("/v1/incidents/\(retrievalID)").object()
        XCTAssertEqual(retrieval["taxonomy_class"] as? String, "retrieval")
        XCTAssertEqual(retrieval["severity"] as? String, "SEV-3")
        XCTAssertEqual(retrieval["collection"] as? String, collection)
        XCTAssertEqual(retrieval["tenant"] as? String, "acme")
        XCTAssertTrue((retrieval["title"] as? String ?? "").contains("Golden-query MRR@10 fell from 1.000 to 0.000"), "\(retrieval)")
        try await harness.stop()
    }
}

extension ContainmentTests {
    /// An alert that finds the same hub again while its incident is open adds the scan to that
    /// incident as evidence: no second incident, and no second forensic snapshot held.
    func testARepeatedAlertJoinsTheOpenIncident() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let (_, path, _) = try await collectionWithHub(harness, count: 300, seed: 67)
        let scan: [String: Any] = ["sample": "documents", "sample_size": 301, "k": 10, "threshold": 4.0, "tenant": "acme", "policy": "alert"]
        let first = try await admin.post(path + "/scans", scan).object()
        let incident = try XCTUnwrap((first["containment"] as? [String: Any])?["incident_id"] as? String)
        let snapshotsAfterFirst = (try await admin.get(path + "/snapshots").object()["snapshots"] as? [[String: Any]] ?? []).count
        let second = try await admin.post(path + "/scans", scan).object()
        XCTAssertEqual((second["containment"] as? [String: Any])?["incident_id"] as? String, incident)
        let snapshots = (try await admin.get(path + "/snapshots").object()["snapshots"] as? [[String: Any]] ?? []).count
        XCTAssertEqual(snapshots, snapshotsAfterFirst, "no second forensic snapshot")
        let scans = try await admin.events(incident).filter { $0.kind == .evidence }.compactMap { try? $0.decoded(EvidenceRecorded.self) }
            .filter { $0.evidenceKind == "scan_report" }
        XCTAssertEqual(scans.count, 2, "both scans are evidence of the one incident")
        try await harness.stop()
    }
}

extension ContainmentTests {
    /// With auto-contain on, a batch the ingest screen cannot score is refused, not stored
    /// unscreened (fail closed); without it the screen only reports, and the batch goes in.
    func testAnIngestTheScreenCannotScoreIsRefusedUnderAutoContain() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 32)
        let path = "/v1/collections/\(collection)"
        let (docs, _) = capWithHub(tenant: "acme", count: 300, dimension: 32, seed: 63)
        await assertEqual(try await admin.post(path + "/documents", ["documents": docs]).status, 201)
        await assertEqual(try await admin.post(path + "/scans", ["sample": "documents", "sample_size": 300, "k": 10, "threshold": 4.0,
                                                                  "tenant": "acme"]).status, 200)
        EngineFaults.arm(.ingestScreen)
        defer { EngineFaults.disarm(.ingestScreen) }
        let advisory = try await admin.post(path + "/documents", ["documents": [["id": "late-1", "tenant": "acme", "text": "t",
                                                                                 "embedding": docs[7]["embedding"]!]]])
        XCTAssertEqual(advisory.status, 201, "no holds: the screen only reports")
        await assertEqual(try await admin.put(path + "/scan-schedule", ["every_seconds": 3_600, "policy": "auto-contain",
                                                                        "threshold": 4.0]).status, 200)
        let refused = try await admin.post(path + "/documents", ["documents": [["id": "late-2", "tenant": "acme", "text": "t",
                                                                                "embedding": docs[8]["embedding"]!]]])
        XCTAssertEqual(refused.status, 500)
        XCTAssertEqual(refused.code, "index_failed")
        XCTAssertTrue(refused.problem?.detail.contains("refused rather than stored unscreened") == true, refused.problem?.detail ?? "")
        await assertEqual(try await admin.get(path + "/documents/late-2").status, 404, "nothing was written")
        EngineFaults.disarm(.ingestScreen)
        await assertEqual(try await admin.post(path + "/documents", ["documents": [["id": "late-2", "tenant": "acme", "text": "t",
                                                                                    "embedding": docs[8]["embedding"]!]]]).status, 201,
                          "the retry goes through")
        try await harness.stop()
    }
}
