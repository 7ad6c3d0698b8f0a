import Crypto
@testable import Engine
import FirebreakAPI
import FirebreakTestSupport
import Incidents
import Foundation
@testable import Server
import XCTest

/// The incident console over real HTTP: sign-in and its cookie, redirects without a session,
/// the CSRF check, a reader's session that cannot act, and a release through the console that
/// lands on the incident's timeline exactly as the API's does.
final class ConsoleTests: XCTestCase {
    /// One server for the whole class (every test makes its own collection and tokens): the
    /// test cluster's connections are a shared budget across the ServerTests suites.
    private static let shared = SharedHarness()

    /// The class's server (a stopped server closes its pool, so the suites that start servers
    /// of their own stay within the test cluster's max_connections).
    static func server() async throws -> Harness {
        try await shared.harness()
    }

    override class func tearDown() {
        let done = DispatchSemaphore(value: 0)
        Task {
            try? await shared.stop()
            done.signal()
        }
        done.wait()
        super.tearDown()
    }

    func testSignInSetsAnHttpOnlyStrictCookieAndSignOutEndsTheSession() async throws {
        let harness = try await Self.server()
        let anonymous = ConsoleVisitor(baseURL: harness.running.baseURL)

        let bare = try await anonymous.get("/console/incidents?status=declared")
        XCTAssertEqual(bare.status, 303)
        XCTAssertEqual(bare.header("Location"), "/console/sign-in?next=%2Fconsole%2Fincidents%3Fstatus%3Ddeclared")
        await assertEqual(try await anonymous.get("/console").status, 303)
        let form = try await anonymous.get("/console/sign-in")
        XCTAssertEqual(form.status, 200)
        XCTAssertTrue(form.text.contains("<input type=\"password\" id=\"token\" name=\"token\""), form.text)

        let wrong = try await anonymous.post("/console/sign-in", [("token", "fbk_not_a_token")])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertNil(wrong.header("Set-Cookie"))

        let signIn = try await anonymous.post("/console/sign-in", [("token", Harness.adminToken), ("next", "/console/incidents")])
        XCTAssertEqual(signIn.status, 303)
        XCTAssertEqual(signIn.header("Location"), "/console/incidents")
        let cookie = try XCTUnwrap(signIn.header("Set-Cookie"))
        let attributes = Set(cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) })
        XCTAssertTrue(attributes.contains("HttpOnly"), cookie)
        XCTAssertTrue(attributes.contains("SameSite=Strict"), cookie)
        XCTAssertTrue(attributes.contains("Path=/console"), cookie)
        XCTAssertFalse(attributes.contains("Secure"), "plain http: no Secure flag, or the browser would drop it")
        XCTAssertTrue(cookie.hasPrefix("firebreak_console="))
        XCTAssertFalse(cookie.contains(Harness.adminToken), "the cookie is a session id, never the token")

        // An https proxy gets the Secure flag too.
        let proxied = try await anonymous.post("/console/sign-in", [("token", Harness.adminToken)], headers: ["X-Forwarded-Proto": "https"])
        XCTAssertTrue(proxied.header("Set-Cookie")?.hasSuffix("; Secure") == true)

        var admin = anonymous
        admin.cookie = String(cookie.split(separator: ";")[0])
        let overview = try await admin.get("/console")
        XCTAssertEqual(overview.status, 200)
        XCTAssertEqual(overview.header("Cache-Control"), "no-store")
        XCTAssertTrue(overview.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        XCTAssertTrue(overview.text.contains("<h1>Overview</h1>"))
        XCTAssertTrue(overview.text.contains("Signed in as admin"))
        XCTAssertTrue(overview.text.contains("<h2 id=\"replicas-heading\">Replicas</h2>"), "replicas and their positions")
        XCTAssertNotNil(overview.text.firstMatch(#"The change log’s head is change [0-9]+\."#))
        // The cookie is no bearer token for the API.
        var cookieOnly = harness.client(token: nil)
        cookieOnly.followsRedirects = false
        await assertEqual(try await cookieOnly.send("GET", "/v1/collections", headers: ["Cookie": admin.cookie!]).status, 401)
        // The stylesheet is the service's own, cached for good.
        let css = try XCTUnwrap(overview.text.firstMatch(#"/console/assets/console-[0-9a-f]{12}\.css"#))
        let asset = try await anonymous.get(css)
        XCTAssertEqual(asset.status, 200)
        XCTAssertEqual(asset.header("Cache-Control"), "public, max-age=31536000, immutable")
        await assertEqual(try await anonymous.get("/console/assets/other.css").status, 404)

        // Signing out needs the CSRF token too; then the session is gone.
        await assertEqual(try await admin.post("/console/sign-out", []).status, 403)
        let out = try await admin.post("/console/sign-out", [("csrf", try admin.csrf(from: overview))])
        XCTAssertEqual(out.status, 303)
        XCTAssertTrue(out.header("Set-Cookie")?.contains("Max-Age=0") == true)
        await assertEqual(try await admin.get("/console").status, 303)
    }

    func testAReaderSeesStatusWithoutButtonsAndAForgedPostIsRefused() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        try await ingestAndQuarantine(harness, collection, reason: "hub")
        let readerToken = try await harness.token("reader").token!
        let reader = try await ConsoleVisitor.signIn(harness, token: readerToken)

        let overview = try await reader.get("/console")
        XCTAssertEqual(overview.status, 200)
        XCTAssertTrue(overview.text.contains("data-collection=\"\(collection)\""), overview.text)
        let page = try await reader.get("/console/collections/\(collection)")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("<dt>Documents</dt>"))
        XCTAssertEqual(page.text.components(separatedBy: "<button").count - 1, 1, "only Sign out:\n\(page.text)")
        XCTAssertFalse(page.text.contains("acme-1"), "a reader does not see the quarantine list (no inspect permission)")
        XCTAssertFalse(overview.text.contains("href=\"/console/incidents\""))
        await assertEqual(try await reader.get("/console/incidents").status, 403)

        // A forged release with the reader's own valid CSRF token: the API's rule refuses it.
        let csrf = try reader.csrf(from: page)
        let forged = try await reader.post("/console/collections/\(collection)/release",
                                           [("csrf", csrf), ("id", "acme-1"), ("reason", "forged")])
        XCTAssertEqual(forged.status, 403)
        XCTAssertTrue(forged.text.contains("forbidden"), forged.text)
        let rebuild = try await reader.post("/console/collections/\(collection)/rebuild", [("csrf", csrf)])
        XCTAssertEqual(rebuild.status, 403)
        await assertEqual(try await quarantined(harness, collection), ["acme-1"])
    }

    func testAPostWithoutOrWithAWrongCSRFTokenIsRefusedAndChangesNothing() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        try await ingestAndQuarantine(harness, collection, reason: "hub")
        let commander = try await ConsoleVisitor.signIn(harness, token: try await harness.token("incident_commander").token!)
        let path = "/console/collections/\(collection)/release"
        let fields = [("id", "acme-1"), ("reason", "false positive")]

        let page = try await commander.get("/console/collections/\(collection)")
        XCTAssertTrue(page.text.contains("value=\"release\""), "a commander has the release button")
        await assertEqual(try await commander.post(path, fields).status, 403)
        await assertEqual(try await commander.post(path, fields + [("csrf", String(repeating: "0", count: 64))]).status, 403)
        await assertEqual(try await commander.post(path, fields + [("csrf", "short")]).status, 403)
        // Another session's token is not this one's.
        let other = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        let otherCSRF = try other.csrf(from: try await other.get("/console"))
        await assertEqual(try await commander.post(path, fields + [("csrf", otherCSRF)]).status, 403)
        // No session at all.
        let anonymous = ConsoleVisitor(baseURL: harness.running.baseURL)
        await assertEqual(try await anonymous.post(path, fields + [("csrf", try commander.csrf(from: page))]).status, 403)
        await assertEqual(try await quarantined(harness, collection), ["acme-1"])
    }

    func testAReleaseThroughTheConsoleAppendsTheEventToTheIncidentTimeline() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let incident = try await ingestAndQuarantine(harness, collection, reason: "<script>alert(1)</script> hub")
        let commanderClient = try await harness.token("incident_commander")
        let commander = try await ConsoleVisitor.signIn(harness, token: commanderClient.token!)

        let page = try await commander.get("/console/collections/\(collection)")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("<tr data-document=\"acme-1\" data-tenant=\"acme\">"), page.text)
        XCTAssertTrue(page.text.contains("score (z) <strong>9.2</strong>"), "the evidence is on the row")
        XCTAssertTrue(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt; hub"), "values are escaped")
        XCTAssertFalse(page.text.contains("<script>alert(1)"))
        // (The quarantine's blast_radius event is appended off its response path: count releases, not events.)
        func releases() async throws -> [[String: Any]] { try await timeline(harness, incident).filter { $0["kind"] as? String == "released" } }
        await assertEqual(try await releases().count, 0)

        let posted = try await commander.post("/console/collections/\(collection)/release", [
            ("csrf", try commander.csrf(from: page)), ("id", "acme-1"), ("incident_id", incident), ("reason", "false positive"),
        ])
        XCTAssertEqual(posted.status, 303, posted.text)
        XCTAssertEqual(posted.header("Location"), "/console/collections/\(collection)")
        let after = try await commander.get("/console/collections/\(collection)")
        XCTAssertTrue(after.text.contains("Released acme-1 under \(incident)"), after.text)
        XCTAssertFalse(after.text.contains("<tr data-document=\"acme-1\" data-tenant=\"acme\">"))
        await assertEqual(try await quarantined(harness, collection), [])

        // The same event the API's release appends, with the commander's token as the actor.
        let released = try await releases()
        XCTAssertEqual(released.count, 1)
        let last = try XCTUnwrap(released.last)
        XCTAssertEqual((last["payload"] as? [String: Any])?["reason"] as? String, "false positive")
        XCTAssertTrue((last["actor"] as? String ?? "").hasSuffix("(incident_commander)"), "\(last)")

        let incidentPage = try await commander.get("/console/incidents/\(incident)")
        XCTAssertEqual(incidentPage.status, 200)
        XCTAssertTrue(incidentPage.text.contains("data-intact=\"true\">chain verified"), incidentPage.text)
        XCTAssertTrue(incidentPage.text.contains("Served 1 document (acme-1) again: false positive."))
        XCTAssertTrue(incidentPage.text.contains("<details><summary>Raw event"))
        await assertEqual(try await commander.get("/console/incidents/INC-999999999").status, 404)
    }

    func testIncidentsAreListedAndFilteredByStatusAndSeverity() async throws {
        let harness = try await Self.server()
        let admin = harness.admin
        let severe = try await admin.post("/v1/incidents", ["title": "severe one", "severity": "SEV-1"]).object()["id"] as! String
        let mild = try await admin.post("/v1/incidents", ["title": "mild one", "severity": "SEV-3"]).object()["id"] as! String
        _ = try await admin.post("/v1/incidents/\(mild)/transition", ["status": "contained", "reason": "contained"])

        func ids(_ query: String) async throws -> [String] {
            let reply = try await admin.get("/v1/incidents" + query)
            XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
            return (try reply.object()["incidents"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        let all = try await ids("")
        XCTAssertEqual(Array(all.prefix(2)), [mild, severe], "newest first")
        let sev1 = try await ids("?severity=SEV-1")
        XCTAssertTrue(sev1.contains(severe))
        XCTAssertFalse(sev1.contains(mild))
        let contained = try await ids("?status=contained&severity=SEV-3")
        XCTAssertTrue(contained.contains(mild))
        XCTAssertFalse(contained.contains(severe))
        await assertEqual(try await ids("?limit=1"), [mild])
        await assertEqual(try await admin.get("/v1/incidents?status=asleep").code, "invalid_input")
        await assertEqual(try await admin.get("/v1/incidents?limit=0").status, 400)
        await assertEqual(try await harness.token("reader").get("/v1/incidents").status, 403)

        let console = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        let page = try await console.get("/console/incidents?severity=SEV-1")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("data-incident=\"\(severe)\""))
        XCTAssertFalse(page.text.contains("data-incident=\"\(mild)\""))
        XCTAssertTrue(page.text.contains("<option value=\"SEV-1\" selected>"))
    }

    // MARK: Pure parts

    func testHTMLEscapesEveryInterpolatedString() {
        let value = "<img src=x onerror='a'>&\"b\""
        let html: HTML = "<p title=\"\(value)\">\(value)</p>"
        XCTAssertEqual(html.text, "<p title=\"&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;b&quot;\">&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;b&quot;</p>")
        let nested: HTML = "<div>\(html)\(12345)</div>"
        XCTAssertEqual(nested.text, "<div>" + html.text + "12,345</div>")
    }

    func testFormsAndRedirectTargets() {
        let form = ConsoleForm(encoded: "a=1&b=two+words&c=%C3%A9%26&a=2&empty=")
        XCTAssertEqual(form?["a"], "1")
        XCTAssertEqual(form?["b"], "two words")
        XCTAssertEqual(form?["c"], "é&")
        XCTAssertNil(form?.text("empty"))
        XCTAssertNil(ConsoleForm(encoded: "a=%ZZ"))
        XCTAssertEqual(ConsoleForm(encoded: ConsoleForm.encode([("x", "a b&c=d/é")]))?["x"], "a b&c=d/é")
        for bad in ["https://evil.example", "//evil.example", "/console//evil.example", "/consoleevil", "/v1/tokens",
                    "/console/sign-out", "/console\\evil"] {
            XCTAssertEqual(Console.safeNext(bad), "/console", bad)
        }
        XCTAssertEqual(Console.safeNext("/console/incidents?status=declared"), "/console/incidents?status=declared")
    }

    func testEventsAreWorded() {
        // Version 2 (typed): documents by external id.
        let released = Released(collectionID: 1, documents: [DocumentReference(externalID: "doc-3", rowID: 3),
                                                             DocumentReference(externalID: "doc-4", rowID: 4)], reason: "false positive")
        var timeline = Timeline(incidentID: "INC-000001")
        XCTAssertEqual(EventWording.sentence(try! timeline.append(released, actor: "ic")),
                       "Served 2 documents (doc-3, doc-4) again: false positive.")
        // Version 1 (round 1's text, row ids only) reads the same way, upgraded.
        XCTAssertEqual(EventWording.sentence(kind: .released, version: 1,
                                             payload: ["collection_id": "1", "documents": "3,4", "reason": "false positive"]),
                       "Served 2 documents again: false positive.")
        XCTAssertEqual(EventWording.sentence(kind: .transitioned, payload: ["from": "declared", "to": "contained", "reason": "held"]),
                       "Moved from declared to contained: held.")
        XCTAssertEqual(EventWording.sentence(kind: .unlisted("something_new"), payload: ["b_key": 2, "a_key": "1"]), "a key: 1; b key: 2")
        XCTAssertEqual(EventWording.sentence(kind: .quarantined, payload: [:]), "No details.", "a payload that does not read falls back to its fields")
        XCTAssertEqual(EventWording.sentence(kind: .rebuildSucceeded, version: 1, payload: ["job_id": "4", "tenants": "acme", "acme.self_recall": "0.990"]),
                       "Rebuild job 4 succeeded; acme: self recall 0.99.")
    }

    // MARK: Helpers

    /// Ten documents of tenant acme; acme-1 quarantined by the admin with a HubScan z of 9.2.
    /// Returns the incident.
    @discardableResult
    /// Ids are unique per tenant: the release button of one tenant's `shared` releases that one.
    func testAReleaseNamesItsDocumentsTenantWhenTwoTenantsShareTheId() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let path = "/v1/collections/\(collection)"
        let shared = ["acme", "globex"].map { tenant in
            ["id": "shared", "tenant": tenant, "text": "same id in \(tenant)", "embedding": tenant == "acme" ? [1, 0, 0, 0] : [0, 1, 0, 0]] as [String: Any]
        }
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": shared]).status, 201)
        for tenant in ["acme", "globex"] {
            await assertEqual(try await harness.admin.post(path + "/quarantine", ["ids": ["shared"], "tenant": tenant, "reason": "hub"]).status, 200)
        }
        let commander = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        let page = try await commander.get("/console/collections/\(collection)")
        XCTAssertTrue(page.text.contains("<tr data-document=\"shared\" data-tenant=\"globex\">"), page.text)
        let posted = try await commander.post("/console/collections/\(collection)/release", [
            ("csrf", try commander.csrf(from: page)), ("id", "shared"), ("tenant", "acme"), ("reason", "false positive"),
        ])
        XCTAssertEqual(posted.status, 303, posted.text)
        let entries = try await harness.admin.get(path + "/quarantine").object()["entries"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.compactMap { $0["tenant"] as? String }, ["globex"], "only acme's shared was released")
    }

    /// The latest scan on the collection page: the z histogram as SVG with the threshold and
    /// the flagged bin marked, the flagged document listed with its detectors; a caller scoped
    /// to another tenant does not see a scan of the whole collection.
    func testTheCollectionPageDrawsTheLatestScanWithItsFlaggedDocuments() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 16)
        let path = "/v1/collections/\(collection)"
        // A cap of documents around one direction, and a hub at its centre.
        var rng = SplitMix(23)
        func gaussian() -> Double { (-2 * log(max(rng.unit(), 1e-12))).squareRoot() * cos(2 * .pi * rng.unit()) }
        var docs: [[String: Any]] = (0..<300).map { i in
            ["id": "acme-\(i)", "tenant": "acme", "text": "passage \(i)",
             "embedding": (0..<16).map { j in (j == 0 ? 1.0 : 0.0) + 0.35 * gaussian() }]
        }
        docs.append(["id": "acme-hub", "tenant": "acme", "text": "the answer to everything", "embedding": (0..<16).map { $0 == 0 ? 1.0 : 0.0 }])
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": docs]).status, 201)
        let admin = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        let before = try await admin.get("/console/collections/\(collection)")
        XCTAssertTrue(before.text.contains("No scan of what this collection serves is visible to you yet."), before.text)

        let scan = try await harness.admin.post(path + "/scans", ["sample": "documents", "sample_size": 301, "k": 10, "threshold": 3.0]).object()
        let flagged = (scan["flagged"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertTrue(flagged.contains("acme-hub"), "\(flagged)")
        let page = try await admin.get("/console/collections/\(collection)")
        XCTAssertTrue(page.text.contains("<svg viewBox=\"0 0 640.0 160.0\" role=\"img\" aria-labelledby=\"histogram-caption\" id=\"z-histogram\">"), page.text)
        XCTAssertTrue(page.text.contains("<rect class=\"bar flagged\""), "the hub's bin is marked")
        XCTAssertTrue(page.text.contains("<line class=\"threshold\""), "the threshold is drawn")
        XCTAssertTrue(page.text.contains("The z of all 301 scored documents"), "every document is in the histogram")
        XCTAssertTrue(page.text.contains("<tr data-flagged=\"acme-hub\"><td><code>acme-hub</code></td>"), page.text)
        let scanID = try XCTUnwrap(scan["id"] as? Int)
        XCTAssertTrue(page.text.contains("<tr data-scan=\"\(scanID)\"><td class=\"num\">\(scanID)</td><td>whole collection</td>"), "the scan is in the history")
        // Quarantined, the hub's row carries the scan's z per detector as its evidence.
        await assertEqual(try await harness.admin.post(path + "/quarantine", ["ids": ["acme-hub"], "reason": "hub"]).status, 200)
        let held = try await admin.get("/console/collections/\(collection)")
        let row = try XCTUnwrap(held.text.components(separatedBy: "<tr data-document=\"acme-hub\"").dropFirst().first)
        XCTAssertTrue(row.prefix(2_000).contains("<span class=\"muted\" data-detectors>latest scan, z per detector: hubness "), row)

        let globex = try await ConsoleVisitor.signIn(harness, token: try await harness.token("incident_commander", tenant: "globex").token!)
        let scoped = try await globex.get("/console/collections/\(collection)")
        XCTAssertEqual(scoped.status, 200)
        XCTAssertFalse(scoped.text.contains("acme-hub"), "another tenant's flagged document is not shown")
        XCTAssertTrue(scoped.text.contains("No scan of what this collection serves is visible to you yet."))
    }

    /// A rollback goes through a page that names the documents it would stop serving and
    /// changes nothing; the confirmation rolls back to the snapshot that page showed.
    /// Verify checks a snapshot from the same table.
    func testARollbackPreviewNamesTheDocumentsThatStopBeingServedAndChangesNothing() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let path = "/v1/collections/\(collection)"
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 30, dimension: 4, seed: 5)]).status, 201)
        let taken = try await harness.admin.post(path + "/snapshots", [:]).object()
        let snapshot = try XCTUnwrap(taken["id"] as? String)
        let late = documents(tenant: "acme", count: 2, dimension: 4, seed: 6, prefix: "late")
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": late]).status, 201)
        let lateIDs = late.compactMap { $0["id"] as? String }.sorted()
        let admin = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)

        let page = try await admin.get("/console/collections/\(collection)")
        XCTAssertTrue(page.text.contains("<form method=\"get\" action=\"/console/collections/\(collection)/rollback\""), page.text)
        let preview = try await admin.get("/console/collections/\(collection)/rollback?snapshot_id=\(snapshot)")
        XCTAssertEqual(preview.status, 200, preview.text)
        XCTAssertTrue(preview.text.contains("<strong>2 documents stop being served</strong>"), preview.text)
        for id in lateIDs { XCTAssertTrue(preview.text.contains("<li data-stops=\"\(id)\" data-tenant=\"acme\">"), id) }
        XCTAssertTrue(preview.text.contains("<dt>Still served</dt><dd>30 documents</dd>"), preview.text)
        XCTAssertTrue(preview.text.contains("<input type=\"hidden\" name=\"snapshot_id\" value=\"\(snapshot)\">"))
        await assertEqual(try await harness.admin.get(path).object()["documents"] as? Int, 32, "the preview changed nothing")
        await assertEqual(try await admin.get("/console/collections/\(collection)/rollback?snapshot_id=snap-unknown").status, 404)

        let verified = try await admin.post("/console/collections/\(collection)/snapshots/\(snapshot)/verify",
                                            [("csrf", try admin.csrf(from: page))])
        XCTAssertEqual(verified.status, 303, verified.text)
        let afterVerify = try await admin.get("/console/collections/\(collection)")
        XCTAssertTrue(afterVerify.text.contains("Snapshot \(snapshot) verified against its root hash"), afterVerify.text)

        let confirmed = try await admin.post("/console/collections/\(collection)/rollback", [
            ("csrf", try admin.csrf(from: preview)), ("snapshot_id", snapshot), ("reason", "back before the late ones"),
            ("confirm", collection),
        ])
        XCTAssertEqual(confirmed.status, 303, confirmed.text)
        let after = try await admin.get("/console/collections/\(collection)")
        XCTAssertTrue(after.text.contains("Rolled back to \(snapshot)"), after.text)
        XCTAssertTrue(after.text.contains("2 documents stopped being served"), after.text)
        await assertEqual(try await harness.admin.get(path).object()["documents"] as? Int, 30)
    }

    /// The incident page's records through the console: commander, decision, evidence, an
    /// action item opened and closed, the postmortem; each lands on the timeline (the chain
    /// still verifies) and the downloads are the API's Markdown and a bundle that verifies.
    func testIncidentRecordsAreWrittenFromTheIncidentPageAndExported() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let incident = try await ingestAndQuarantine(harness, collection, reason: "hub")
        let commander = try await ConsoleVisitor.signIn(harness, token: try await harness.token("incident_commander").token!)
        let path = "/console/incidents/\(incident)"
        func post(_ action: String, _ fields: [(String, String)]) async throws {
            let page = try await commander.get(path)
            let reply = try await commander.post(path + "/" + action, [("csrf", try commander.csrf(from: page))] + fields)
            XCTAssertEqual(reply.status, 303, "\(action): \(reply.text)")
        }
        let page = try await commander.get(path)
        for form in ["commander-form", "decision-form", "evidence-form", "action-form", "postmortem-form"] {
            XCTAssertTrue(page.text.contains("id=\"\(form)\""), form)
        }
        try await post("commander", [("commander", "dana")])
        try await post("decisions", [("what", "roll back to last-clean"), ("why", "the hub is in every answer"),
                                     ("options_not_taken", "wait for the scan\nquarantine only")])
        try await post("evidence", [("kind", "query_log"), ("sha256", String(repeating: "ab", count: 32)),
                                    ("location", "s3://evidence/q.log"), ("summary", "answers that carried the hub")])
        try await post("actions", [("title", "add a golden query"), ("owner", "dana"), ("due", "2026-12-31"),
                                   ("verification", "the query is in the golden set")])
        try await post("actions", [("close", "1"), ("verification_evidence", "golden query 42")])
        try await post("postmortem", [("summary", "A planted hub reached answers."), ("failing_layer", "ingest screen"),
                                      ("root_cause", "threshold too high"), ("regression_case", "hub-at-centre fixture")])
        let after = try await commander.get(path)
        XCTAssertTrue(after.text.contains("<dt>Commander</dt><dd>dana"), after.text)
        XCTAssertTrue(after.text.contains("<strong>roll back to last-clean</strong> because the hub is in every answer"), after.text)
        XCTAssertTrue(after.text.contains("Not taken: wait for the scan; quarantine only"))
        XCTAssertTrue(after.text.contains("<code>s3://evidence/q.log</code>"))
        XCTAssertTrue(after.text.contains("<span class=\"badge state-succeeded\">closed</span> golden query 42"))
        XCTAssertTrue(after.text.contains("<h3>Root cause</h3><p>threshold too high</p>"))
        XCTAssertTrue(after.text.contains("data-intact=\"true\">chain verified"), "the chain verifies after every record")

        let markdown = try await commander.get(path + "/postmortem.md")
        XCTAssertEqual(markdown.status, 200)
        XCTAssertEqual(markdown.header("Content-Disposition"), "attachment; filename=\"\(incident)-postmortem.md\"")
        XCTAssertTrue(markdown.text.contains("threshold too high"))
        let served = try await harness.admin.get("/v1/incidents/\(incident)/postmortem")
        XCTAssertEqual(markdown.text, String(decoding: served.body, as: UTF8.self), "the API's Markdown")
        let bundle = try await commander.get(path + "/export.json")
        XCTAssertEqual(bundle.status, 200, bundle.text)
        XCTAssertEqual(bundle.header("Content-Disposition"), "attachment; filename=\"\(incident).json\"")
        let decoded = try JSONDecoder().decode(ExportBundle.self, from: bundle.body)
        XCTAssertNoThrow(try decoded.verify(), "the bundle verifies offline")
        let verified = try await harness.admin.get("/v1/incidents/\(incident)/verify").object()
        XCTAssertEqual(decoded.events.count, verified["events"] as? Int)

        let reader = try await ConsoleVisitor.signIn(harness, token: try await harness.token("reader").token!)
        await assertEqual(try await reader.get(path + "/export.json").status, 403)
    }

    /// A form is acted on once: its one-time key submitted again does nothing and says so. A
    /// POST from another origin is refused before anything else.
    func testAFormSubmittedTwiceActsOnceAndAForeignOriginIsRefused() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let incident = try await ingestAndQuarantine(harness, collection, reason: "hub")
        let admin = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        let path = "/console/incidents/\(incident)"
        let page = try await admin.get(path)
        let key = try XCTUnwrap(page.text.firstMatch(#"name="form_key" value="[0-9a-f]{32}""#)).split(separator: "\"")[3]
        let fields = [("csrf", try admin.csrf(from: page)), ("form_key", String(key)), ("what", "hold"), ("why", "wait for the scan")]
        let foreign = try await admin.post(path + "/decisions", fields, headers: ["Origin": "https://evil.example"])
        XCTAssertEqual(foreign.status, 403)
        await assertEqual(try await admin.post(path + "/decisions", fields).status, 303)
        let again = try await admin.post(path + "/decisions", fields)
        XCTAssertEqual(again.status, 303)
        XCTAssertEqual(again.header("Location"), path)
        let after = try await admin.get(path)
        XCTAssertTrue(after.text.contains("That form was already submitted; nothing was done a second time."), after.text)
        XCTAssertTrue(after.text.contains("<h2 id=\"decisions-heading\">Decisions (1)</h2>"), "recorded once")
        await assertEqual(try await admin.post(path + "/decisions", [("csrf", try admin.csrf(from: page)), ("form_key", "not-hex"),
                                                                    ("what", "x"), ("why", "y")]).status, 303)
        let unchanged = try await admin.get(path)
        XCTAssertTrue(unchanged.text.contains("Decisions (1)"), "a malformed key acts on nothing")
        let sameOrigin = try await admin.post(path + "/decisions", [("csrf", try admin.csrf(from: page)), ("what", "go"), ("why", "clean scan")],
                                              headers: ["Origin": harness.running.baseURL])
        XCTAssertEqual(sameOrigin.status, 303)
        let twice = try await admin.get(path)
        XCTAssertTrue(twice.text.contains("Decisions (2)"), "a post without a key (a script) is acted on")
    }

    /// Sessions live in PostgreSQL: signed in through one replica, the cookie works on
    /// another (no sticky sessions), a notice posted on one shows on the other, and signing
    /// out on the second ends the session on the first.
    func testASessionSignedInOnOneReplicaWorksOnAnother() async throws {
        let harness = try await Self.server()
        let other = try await Harness.start(replica: "console-second", poolSize: 1)
        let first = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        var second = ConsoleVisitor(baseURL: other.running.baseURL)
        second.cookie = first.cookie
        let overview = try await second.get("/console")
        XCTAssertEqual(overview.status, 200, "the other replica knows the session")
        XCTAssertTrue(overview.text.contains("Signed in as admin"))
        let signOut = try await second.post("/console/sign-out", [("csrf", try second.csrf(from: overview))])
        XCTAssertEqual(signOut.status, 303)
        await assertEqual(try await first.get("/console").status, 303, "signed out everywhere")
        try await other.stop()
    }

    /// The banner's live state: a frozen collection is listed while the freeze holds, for a
    /// reader without its incidents; the page's banner slot is there either way.
    func testTheLiveBannerStateFollowsAFreeze() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let path = "/v1/collections/\(collection)"
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 10, dimension: 4, seed: 3)]).status, 201)
        let reader = try await ConsoleVisitor.signIn(harness, token: try await harness.token("reader").token!)
        func listed() async throws -> [[String: Any]] {
            let reply = try await reader.get("/console/live")
            XCTAssertEqual(reply.status, 200)
            let state = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
            return (state?["degraded"] as? [[String: Any]] ?? []).filter { $0["collection"] as? String == collection }
        }
        await assertEqual(try await listed().count, 0)
        await assertEqual(try await harness.admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": true]).status, 200)
        let frozen = try await listed()
        XCTAssertEqual(frozen.first?["words"] as? String, "frozen: ingestion is refused")
        XCTAssertEqual(frozen.first?["incidents"] as? [String], [], "a reader is not shown incidents")
        let page = try await reader.get("/console")
        XCTAssertTrue(page.text.contains("<div id=\"banner-slot\" data-banner=\"/console/live\"><div class=\"banner\" role=\"alert\" id=\"degraded-banner\">"))
        await assertEqual(try await ConsoleVisitor(baseURL: harness.running.baseURL).get("/console/live").status, 401)
    }

    /// A rebuilding collection's card on the overview shows its job's progress.
    func testTheOverviewShowsARebuildsProgress() async throws {
        let harness = try await Self.server()
        let collection = try await harness.collection(dimension: 4)
        let path = "/v1/collections/\(collection)"
        await assertEqual(try await harness.admin.post(path + "/documents", ["documents": documents(tenant: "acme", count: 20, dimension: 4, seed: 9)]).status, 201)
        EngineFaults.arm(.rebuildBeforeSwap)
        defer { EngineFaults.disarm(.rebuildBeforeSwap) }
        let started = try await harness.admin.post(path + "/rebuild", ["tenant": "acme", "reason": "overview"]).object()
        let job = try XCTUnwrap(started["job_id"] as? Int)
        let admin = try await ConsoleVisitor.signIn(harness, token: Harness.adminToken)
        let overview = try await admin.get("/console")
        let card = try XCTUnwrap(overview.text.components(separatedBy: "<article class=\"card\" data-collection=\"\(collection)\">").dropFirst().first)
            .components(separatedBy: "</article>")[0]
        XCTAssertTrue(card.contains("data-mode=\"rebuilding\""), card)
        XCTAssertTrue(card.contains("<dt>Job \(job)</dt><dd data-overview-job=\"\(job)\">rebuild (tenant acme): <progress"), card)
        await assertEqual(try await harness.admin.send("DELETE", "/v1/jobs/\(job)").status, 200)
    }

    private func ingestAndQuarantine(_ harness: Harness, _ collection: String, reason: String) async throws -> String {
        let ingest = try await harness.admin.post("/v1/collections/\(collection)/documents",
                                                  ["documents": documents(tenant: "acme", count: 10, dimension: 4, seed: 3)])
        XCTAssertEqual(ingest.status, 201, String(decoding: ingest.body, as: UTF8.self))
        let reply = try await harness.admin.post("/v1/collections/\(collection)/quarantine",
                                                 ["ids": ["acme-1"], "reason": reason, "scores": ["acme-1": 9.2]])
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
        return try XCTUnwrap(try reply.object()["incident_id"] as? String)
    }

    private func quarantined(_ harness: Harness, _ collection: String) async throws -> [String] {
        let entries = try await harness.admin.get("/v1/collections/\(collection)/quarantine").object()["entries"] as? [[String: Any]]
        return (entries ?? []).compactMap { $0["id"] as? String }
    }

    private func timeline(_ harness: Harness, _ incident: String) async throws -> [[String: Any]] {
        try await harness.admin.get("/v1/incidents/\(incident)/timeline").object()["events"] as? [[String: Any]] ?? []
    }
}

/// A browser stand-in: one cookie, redirects answered as they come, forms posted url-encoded.
struct ConsoleVisitor {
    let baseURL: String
    var cookie: String?

    init(baseURL: String, cookie: String? = nil) {
        self.baseURL = baseURL
        self.cookie = cookie
    }

    private var client: APIClient {
        var client = APIClient(baseURL: baseURL, token: nil)
        client.followsRedirects = false
        return client
    }

    static func signIn(_ harness: Harness, token: String) async throws -> ConsoleVisitor {
        let visitor = ConsoleVisitor(baseURL: harness.running.baseURL)
        let reply = try await visitor.post("/console/sign-in", [("token", token)])
        XCTAssertEqual(reply.status, 303)
        let cookie = try XCTUnwrap(reply.header("Set-Cookie"))
        return ConsoleVisitor(baseURL: visitor.baseURL, cookie: String(cookie.split(separator: ";")[0]))
    }

    func get(_ path: String) async throws -> APIClient.Reply {
        try await client.send("GET", path, headers: cookie.map { ["Cookie": $0] } ?? [:])
    }

    func post(_ path: String, _ fields: [(String, String)], headers: [String: String] = [:]) async throws -> APIClient.Reply {
        var all = headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { given, _ in given }
        if let cookie { all["Cookie"] = cookie }
        let body = fields.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        return try await client.send("POST", path, json: Data(body.utf8), headers: all)
    }

    /// The CSRF token in a page's forms.
    func csrf(from page: APIClient.Reply) throws -> String {
        try XCTUnwrap(page.text.firstMatch(#"(?<=name="csrf" value=")[0-9a-f]{64}"#), "no CSRF field in the page")
    }
}

extension APIClient.Reply {
    var text: String { String(decoding: body, as: UTF8.self) }
}

extension String {
    func firstMatch(_ pattern: String) -> String? {
        range(of: pattern, options: .regularExpression).map { String(self[$0]) }
    }
}

/// A harness started on first use and stopped once, when the class is done.
actor SharedHarness {
    private var started: Harness?

    func harness() async throws -> Harness {
        if let started { return started }
        // One connection: a stopped server's pool is not closed before the process ends, and
        // the test cluster's max_connections is shared by every suite of the run.
        let harness = try await Harness.start(poolSize: 1, signingKey: IncidentSigningKey(Curve25519.Signing.PrivateKey()))
        started = harness
        return harness
    }

    func stop() async throws {
        try await started?.stop()
        started = nil
    }
}

