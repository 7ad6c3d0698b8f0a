import Crypto
@testable import Engine
import FirebreakAPI
import FirebreakTestSupport
import Foundation
import Hex
import Incidents
import Server
import XCTest

/// The read endpoints the incident console lists from: jobs, a collection's stored scans (a
/// page at a time) and an incident's signed export, each scoped to the caller's tenant.
final class ListingTests: XCTestCase {
    private func finished(_ client: APIClient, _ job: Int, file: StaticString = #filePath, line: UInt = #line)
        async throws -> String {
        for _ in 0..<600 {
            let state = try await client.get("/v1/jobs/\(job)").object()["state"] as? String ?? ""
            if ["succeeded", "failed", "cancelled"].contains(state) { return state }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("job \(job) did not finish", file: file, line: line)
        return ""
    }

    private func rebuild(_ harness: Harness, _ collection: String, tenant: String?, file: StaticString = #filePath,
                         line: UInt = #line) async throws -> Int {
        var body: [String: Any] = ["reason": "listing test"]
        if let tenant { body["tenant"] = tenant }
        let started = try await harness.admin.post("/v1/collections/\(collection)/rebuild", body)
        XCTAssertEqual(started.status, 202, String(decoding: started.body, as: UTF8.self), file: file, line: line)
        return try XCTUnwrap(try started.object()["job_id"] as? Int, file: file, line: line)
    }

    private func jobIDs(_ client: APIClient, _ query: String, file: StaticString = #filePath, line: UInt = #line)
        async throws -> [Int] {
        let reply = try await client.get("/v1/jobs" + query)
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        return try reply.decoded(JobListBody.self).jobs.map { Int($0.id) }
    }

    func testJobsAreListedNewestFirstFilteredAndScopedToTheCallersTenant() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        let other = try await harness.collection(dimension: 8)
        _ = try await admin.post("/v1/collections/\(collection)/documents",
                                 ["documents": documents(tenant: "acme", count: 60, dimension: 8, seed: 51)
                                    + documents(tenant: "globex", count: 60, dimension: 8, seed: 52)])
        _ = try await admin.post("/v1/collections/\(other)/documents",
                                 ["documents": documents(tenant: "acme", count: 60, dimension: 8, seed: 53)])
        let acme = try await rebuild(harness, collection, tenant: "acme")
        await assertEqual(try await finished(admin, acme), "succeeded")
        let globex = try await rebuild(harness, collection, tenant: "globex")
        await assertEqual(try await finished(admin, globex), "succeeded")
        let whole = try await rebuild(harness, collection, tenant: nil)
        await assertEqual(try await finished(admin, whole), "succeeded")
        let elsewhere = try await rebuild(harness, other, tenant: "acme")
        await assertEqual(try await finished(admin, elsewhere), "succeeded")
        EngineFaults.arm(.rebuildBeforeSwap)
        let cancelled = try await rebuild(harness, collection, tenant: "acme")
        await assertEqual(try await admin.send("DELETE", "/v1/jobs/\(cancelled)").status, 200)
        EngineFaults.disarm(.rebuildBeforeSwap)
        await assertEqual(try await finished(admin, cancelled), "cancelled")

        // Newest first; by collection, by state, both, and at most `limit`.
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)"), [cancelled, whole, globex, acme])
        await assertEqual(try await jobIDs(admin, "?collection=\(other)"), [elsewhere])
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)&state=succeeded"), [whole, globex, acme])
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)&state=cancelled"), [cancelled])
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)&state=running"), [])
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)&limit=2"), [cancelled, whole])
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)&limit=1&state="), [cancelled])
        let everything = try await jobIDs(admin, "?limit=500")
        XCTAssertEqual(everything, everything.sorted(by: >), "newest first")
        XCTAssertEqual(everything.filter { [acme, globex, whole, elsewhere, cancelled].contains($0) },
                       [cancelled, elsewhere, whole, globex, acme])
        let listed = try await admin.get("/v1/jobs?collection=\(collection)&limit=1").decoded(JobListBody.self).jobs[0]
        let single = try await admin.get("/v1/jobs/\(cancelled)").decoded(JobBody.self)
        XCTAssertEqual([listed.id, Int64(cancelled)], [single.id, single.id])
        XCTAssertEqual([listed.state, listed.collection, listed.tenant, listed.incidentID],
                       [single.state, collection, "acme", single.incidentID], "each job as GET /v1/jobs/{id} answers it")

        // Bad input is a 4xx problem that says what is allowed.
        let state = try await admin.get("/v1/jobs?state=asleep")
        XCTAssertEqual(state.status, 400)
        XCTAssertEqual(state.code, "invalid_input")
        XCTAssertTrue(state.problem?.detail.contains("queued, running, succeeded, failed, cancelled") == true, "\(state.problem as Any)")
        for limit in ["0", "501", "-1", "many", "1.5"] {
            let reply = try await admin.get("/v1/jobs?limit=\(limit)")
            XCTAssertEqual(reply.status, 400, "limit=\(limit)")
            XCTAssertEqual(reply.code, "invalid_input", "limit=\(limit)")
        }
        await assertEqual(try await jobIDs(admin, "?collection=\(collection)&limit=500").count, 4)
        await assertEqual(try await admin.get("/v1/jobs?collection=no-such-\(UUID().uuidString.prefix(8))").code, "unknown_collection")
        await assertEqual(try await harness.token("reader").get("/v1/jobs").status, 403)

        // A tenant-scoped token sees only its tenant's jobs, never the whole-collection one.
        let acmeOwner = try await harness.token("retrieval_owner", tenant: "acme")
        await assertEqual(try await jobIDs(acmeOwner, "?collection=\(collection)"), [cancelled, acme])
        await assertEqual(try await jobIDs(acmeOwner, "?collection=\(other)"), [elsewhere])
        let globexOwner = try await harness.token("retrieval_owner", tenant: "globex")
        await assertEqual(try await jobIDs(globexOwner, "?collection=\(collection)"), [globex])
        let seenByGlobex = try await jobIDs(globexOwner, "?limit=500")
        XCTAssertTrue(Set(seenByGlobex).isDisjoint(with: [acme, whole, elsewhere, cancelled]), "\(seenByGlobex)")
        await assertEqual(try await globexOwner.get("/v1/jobs/\(acme)").status, 404)
        try await harness.stop()
    }

    private func scan(_ harness: Harness, _ collection: String, tenant: String?, file: StaticString = #filePath,
                      line: UInt = #line) async throws -> Int64 {
        var body: [String: Any] = ["sample": "documents", "sample_size": 60, "k": 5, "threshold": 1]
        if let tenant { body["tenant"] = tenant }
        let reply = try await harness.admin.post("/v1/collections/\(collection)/scans", body)
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        return try reply.decoded(ScanResultBody.self).id
    }

    private func page(_ client: APIClient, _ collection: String, _ query: String, file: StaticString = #filePath,
                      line: UInt = #line) async throws -> ScanPageBody {
        let reply = try await client.get("/v1/collections/\(collection)/scans" + query)
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        return try reply.decoded(ScanPageBody.self)
    }

    /// Every scan, following `next_before` from the first page: the ids in order.
    private func walk(_ client: APIClient, _ collection: String, limit: Int) async throws -> (ids: [Int64], pages: Int) {
        var ids: [Int64] = [], pages = 0, before: Int64?
        repeat {
            let next = try await page(client, collection, "?limit=\(limit)" + (before.map { "&before=\($0)" } ?? ""))
            XCTAssertLessThanOrEqual(next.scans.count, limit)
            XCTAssertFalse(next.scans.isEmpty, "a cursor never leads to an empty page")
            if let cursor = next.nextBefore { XCTAssertEqual(cursor, next.scans.last?.id, "next_before is the page's last id") }
            ids += next.scans.map(\.id)
            pages += 1
            before = next.nextBefore
        } while before != nil && pages < 100
        return (ids, pages)
    }

    func testScansArePagedNewestFirstByKeysetAndScopedToTheCallersTenant() async throws {
        let harness = try await Harness.start()
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        _ = try await admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 60, dimension: 8, seed: 61)
                                                        + documents(tenant: "globex", count: 60, dimension: 8, seed: 62)])
        var acme: [Int64] = [], globex: [Int64] = [], whole: [Int64] = []
        for _ in 0..<3 {
            acme.append(try await scan(harness, collection, tenant: "acme"))
            whole.append(try await scan(harness, collection, tenant: nil))
            globex.append(try await scan(harness, collection, tenant: "globex"))
        }
        let snapshot = try await admin.post(path + "/snapshots", [:]).object()["id"] as? String ?? ""
        let verified = try await admin.post(path + "/snapshots/\(snapshot)/verify", ["sample": "documents", "threshold": 1_000]).object()
        let snapshotScan = try XCTUnwrap((verified["scan_id"] as? Int).map(Int64.init))
        let all = (acme + globex + whole + [snapshotScan]).sorted(by: >)

        // The whole first page, newest first, each summary as the stored report says.
        let first = try await page(admin, collection, "")
        XCTAssertEqual(first.scans.map(\.id), all, "default limit 50 holds them all, newest first")
        XCTAssertNil(first.nextBefore, "no further page")
        for summary in first.scans where summary.id != snapshotScan {
            let stored = try await admin.get("/v1/scans/\(summary.id)").decoded(ScanResultBody.self)
            XCTAssertEqual(summary.tenant, stored.tenant)
            XCTAssertEqual(summary.maxZ, stored.maxZ)
            XCTAssertEqual(summary.threshold, 1)
            XCTAssertEqual(summary.flagged, stored.report.report.flagged.count)
            XCTAssertNil(summary.snapshotID)
        }
        let ofSnapshot = try XCTUnwrap(first.scans.first { $0.id == snapshotScan })
        XCTAssertEqual(ofSnapshot.snapshotID, snapshot)
        XCTAssertEqual(ofSnapshot.threshold, 1_000)
        XCTAssertNil(ofSnapshot.tenant)
        let raw = try await admin.get(path + "/scans?limit=1").object()
        XCTAssertTrue(raw["next_before"] is Int, "\(raw)")
        let row = try XCTUnwrap((raw["scans"] as? [[String: Any]])?.first)
        XCTAssertTrue(row["tenant"] is NSNull && row["snapshot_id"] is String, "null is sent, not left out: \(row)")
        let last = try await admin.get(path + "/scans?limit=50").object()
        XCTAssertTrue(last["next_before"] is NSNull, "\(last)")

        // Following next_before visits every scan once, in order, whatever the page size.
        for limit in [1, 2, 3, 4, 9, 10] {
            let walked = try await walk(admin, collection, limit: limit)
            XCTAssertEqual(walked.ids, all, "limit \(limit)")
            XCTAssertEqual(walked.pages, (all.count + limit - 1) / limit, "limit \(limit): no trailing empty page")
        }
        let two = try await page(admin, collection, "?limit=2")
        XCTAssertEqual(two.nextBefore, all[1])
        await assertEqual(try await page(admin, collection, "?limit=3&before=\(all[1])").scans.map(\.id), Array(all[2..<5]))
        await assertEqual(try await page(admin, collection, "?before=\(all.last!)").scans.map(\.id), [])
        // A scan stored between two pages does not shift the next one (keyset, not offset).
        let newer = try await scan(harness, collection, tenant: "acme")
        await assertEqual(try await page(admin, collection, "?limit=2&before=\(all[1])").scans.map(\.id), [all[2], all[3]])
        await assertEqual(try await page(admin, collection, "?limit=1").scans.map(\.id), [newer])

        // A tenant-scoped token: only its tenant's scans, paged the same way.
        let acmeOwner = try await harness.token("retrieval_owner", tenant: "acme")
        let acmeAll = ([newer] + acme).sorted(by: >)
        await assertEqual(try await page(acmeOwner, collection, "").scans.map(\.id), acmeAll)
        await assertEqual(try await walk(acmeOwner, collection, limit: 1).ids, acmeAll)
        let globexOwner = try await harness.token("retrieval_owner", tenant: "globex")
        await assertEqual(try await page(globexOwner, collection, "").scans.map(\.id), globex.sorted(by: >))
        await assertEqual(try await page(globexOwner, collection, "?before=\(globex.min()!)").scans.map(\.id), [])
        await assertEqual(try await globexOwner.get("/v1/scans/\(acme[0])").status, 404, "the same rule as one scan")

        // Bad input is a 4xx problem; nothing here is a 500.
        for query in ["?limit=0", "?limit=201", "?limit=x", "?before=0", "?before=-3", "?before=abc", "?before=1.5"] {
            let reply = try await admin.get(path + "/scans" + query)
            XCTAssertEqual(reply.status, 400, query)
            XCTAssertEqual(reply.code, "invalid_input", query)
        }
        await assertEqual(try await page(admin, collection, "?limit=200").scans.count, all.count + 1)
        await assertEqual(try await admin.get("/v1/collections/no-such-\(UUID().uuidString.prefix(8))/scans").code, "unknown_collection")
        await assertEqual(try await harness.token("reader").get(path + "/scans").status, 403)
        try await harness.stop()
    }

    func testAnIncidentsExportIsSignedByTheServersKeyAndVerifiesOffline() async throws {
        let key = Curve25519.Signing.PrivateKey()
        let harness = try await Harness.start(signingKey: IncidentSigningKey(key))
        let admin = harness.admin
        let collection = try await harness.collection(dimension: 8)
        _ = try await admin.post("/v1/collections/\(collection)/documents",
                                 ["documents": documents(tenant: "acme", count: 5, dimension: 8, seed: 71)
                                    + documents(tenant: "globex", count: 5, dimension: 8, seed: 72)])
        let declared = try await admin.post("/v1/incidents", ["title": "export me", "severity": "SEV-3", "tenant": "acme"])
        XCTAssertEqual(declared.status, 201, String(decoding: declared.body, as: UTF8.self))
        let id = try XCTUnwrap(try declared.object()["id"] as? String)
        _ = try await admin.post("/v1/incidents/\(id)/decisions", ["what": "watch", "why": "a drill", "options_not_taken": ["quarantine"]])

        let reply = try await admin.get("/v1/incidents/\(id)/export")
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
        XCTAssertEqual(reply.header("Content-Disposition"), "attachment; filename=\"\(id).json\"")
        XCTAssertTrue(reply.header("Content-Type")?.hasPrefix("application/json") == true)
        let bundle = try JSONDecoder().decode(ExportBundle.self, from: reply.body)
        XCTAssertNoThrow(try bundle.verify(), "the bundle alone verifies: chain and signature")
        XCTAssertEqual(bundle.publicKey, key.publicKey.rawRepresentation.hexEncoded, "signed with the server's key")
        XCTAssertEqual(bundle.incident.id, id)
        XCTAssertEqual(bundle.events.map(\.kind), [.declared, .decision])
        let verify = try await admin.get("/v1/incidents/\(id)/verify").decoded(VerifyBody.self)
        XCTAssertEqual(bundle.chainHead, verify.head)
        let top = try XCTUnwrap(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        XCTAssertEqual(Set(top.keys), ["format_version", "incident", "events", "chain_head", "public_key", "signature"])
        // Any edit is caught offline: an event's payload, or the head the signature covers.
        var edited = bundle
        edited.events[1].payload["why"] = .string("no reason")
        XCTAssertThrowsError(try edited.verify())
        var resigned = bundle
        resigned.chainHead = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try resigned.verify())
        var forged = bundle
        forged.publicKey = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.hexEncoded
        XCTAssertThrowsError(try forged.verify())

        // The incident's tenant may export it; another tenant's token is told it does not exist.
        let acmeOwner = try await harness.token("retrieval_owner", tenant: "acme")
        await assertEqual(try await acmeOwner.get("/v1/incidents/\(id)/export").status, 200)
        let globexOwner = try await harness.token("retrieval_owner", tenant: "globex")
        await assertEqual(try await globexOwner.get("/v1/incidents/\(id)/export").code, "unknown_incident")
        await assertEqual(try await admin.get("/v1/incidents/INC-999999999/export").code, "unknown_incident")
        await assertEqual(try await admin.get("/v1/incidents/nonsense/export").status, 404)
        await assertEqual(try await harness.token("reader").get("/v1/incidents/\(id)/export").status, 403)

        // The postmortem downloads only when asked to.
        let markdown = try await admin.get("/v1/incidents/\(id)/postmortem")
        XCTAssertEqual(markdown.status, 200)
        XCTAssertNil(markdown.header("Content-Disposition"))
        let download = try await admin.get("/v1/incidents/\(id)/postmortem?download=1")
        XCTAssertEqual(download.header("Content-Disposition"), "attachment; filename=\"\(id)-postmortem.md\"")
        XCTAssertEqual(download.body, markdown.body)
        await assertEqual(try await admin.get("/v1/incidents/\(id)/postmortem?download=yes").code, "invalid_input")
        try await harness.stop()

        // A server configured without a key says so, as a problem, and still answers 404 first.
        let keyless = try await Harness.start()
        let refused = try await keyless.admin.get("/v1/incidents/\(id)/export")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.code, "signing_key_unavailable")
        await assertEqual(try await keyless.admin.get("/v1/incidents/INC-999999999/export").code, "unknown_incident")
        try await keyless.stop()
    }

    /// The one loader `serve` and `incident export` share: created 0600 once, the same key after.
    func testTheSigningKeyFileIsCreatedOnceAndAWrongOneIsRefused() throws {
        let folder = NSTemporaryDirectory() + "fb-signing-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = IncidentSigningKey.defaultPath(dataDirectory: folder + "/data")
        XCTAssertTrue(path.hasSuffix("/data/incident-signing.key"))
        let created = try IncidentSigningKey.load(at: path)
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        XCTAssertEqual(mode.intValue & 0o777, 0o600)
        XCTAssertEqual(try IncidentSigningKey.load(at: path).key.rawRepresentation, created.key.rawRepresentation, "read back, not replaced")
        XCTAssertEqual(FileManager.default.contents(atPath: path), created.key.rawRepresentation)
        let wrong = folder + "/short.key"
        XCTAssertTrue(FileManager.default.createFile(atPath: wrong, contents: Data([1, 2, 3])))
        XCTAssertThrowsError(try IncidentSigningKey.load(at: wrong)) { error in
            XCTAssertEqual((error as? Problem)?.code, .signingKeyUnavailable)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: wrong), Data([1, 2, 3]), "a wrong file is never overwritten")
    }
}
