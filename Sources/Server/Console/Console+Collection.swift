// Console+Collection — one collection: status, jobs, the quarantine table, snapshots, and the
// forms for its next steps (release, rebuild, lift a freeze, roll back).
//
// Owns: the collection page and the small JSON the page's script polls for job progress.
// Never: shows a form its caller's role may not submit (the server refuses it anyway, in
// `Console+Actions`); shows another tenant's entries or jobs to a tenant-scoped caller;
// shows snapshots to a scoped caller (they cover every tenant, as the API says).
// Invariant: every form posts to /console/collections/{name}/… with the session's CSRF token.

import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import HubScan
import Snapshots
import Store

extension Console {
    func collectionPage(_ name: String, job requested: Int64?, scansBefore: Int64? = nil, _ visit: Visit) async throws -> HTML {
        let caller = visit.caller
        let collection = try api.collections.named(name)
        let body = try await api.describe(collection, scope: caller.tenant)
        var sections: [HTML] = [statusSection(body)]
        if caller.role.may(.command) { sections.append(freezeForms(body, visit)) }
        if caller.role.may(.inspect) {
            sections.append(try await jobsSection(collection, requested: requested, visit))
            let latest = try await latestScan(collection, visit)
            sections.append(try await quarantineSection(collection, latest: latest, visit))
            sections.append(try await scanSection(collection, latest: latest, scansBefore: scansBefore, visit))
            if caller.tenant == nil { sections.append(try await snapshotSection(collection, body, visit)) }
        } else {
            sections.append("<p class=\"muted\">Your role (reader) sees this collection’s status only.</p>")
        }
        return try await layout(title: name, visit, """
            <h1>Collection <code>\(name)</code> \(Self.modeBadge(body.mode))</h1>
            \(sections)
            """)
    }

    private func statusSection(_ body: CollectionBody) -> HTML {
        let scan: HTML = body.lastScan.map { "\(ConsoleTime.html($0.at)), max z \(Self.decimal($0.maxZ))" } ?? "never"
        let flags: HTML = body.flags.isEmpty ? "none" : HTML.join(body.flags.map { flag -> HTML in
            let tenant: String = flag.tenant.map { " for tenant " + $0 } ?? " for the whole collection"
            return "<code>\(flag.flag)</code>\(tenant)"
        }, separator: "; ")
        let tenants = body.tenants.isEmpty ? "none" : body.tenants.joined(separator: ", ")
        let vectors = "\(body.dimension) dimensions, \(body.metric); HNSW M \(body.hnsw.m ?? 0), ef \(body.hnsw.efSearch ?? 0)"
        return """
            <section aria-labelledby="status-heading">
            <h2 id="status-heading">Status</h2>
            <dl class="facts">
            <dt>Mode</dt><dd>\(body.mode)</dd>
            <dt>Documents</dt><dd>\(body.documents)</dd>
            <dt>Quarantined</dt><dd>\(body.quarantined)</dd>
            <dt>Tenants</dt><dd>\(tenants)</dd>
            <dt>Vectors</dt><dd>\(vectors)</dd>
            <dt>Flags</dt><dd>\(flags)</dd>
            <dt>Last scan</dt><dd>\(scan)</dd>
            </dl>
            </section>
            """
    }

    /// One form per freeze in force: lifting it is refused until a scan after it is clean.
    private func freezeForms(_ body: CollectionBody, _ visit: Visit) -> HTML {
        HTML.join(body.flags.filter { $0.flag == FeatureFlag.indexFreeze.rawValue }.map { flag -> HTML in
            let scope: String = flag.tenant.map { "tenant " + $0 } ?? "the whole collection"
            return """
                <form method="post" action="\(Console.path("collections", body.name, "unfreeze"))" class="panel">
                \(csrfField(visit))<input type="hidden" name="tenant" value="\(flag.tenant ?? "")">
                <label>Reason for lifting the freeze on \(scope)<input type="text" name="reason" required></label>
                <p class="muted">A freeze lifts only after a clean scan: the service refuses this until a scan since the freeze found nothing at or above its threshold.</p>
                <button type="submit" name="action" value="unfreeze">Lift freeze</button>
                </form>
                """
        })
    }

    // MARK: Jobs

    static let finishedJobsListed = 5

    /// Open jobs of this collection the caller can see, plus the one just started (`?job=`).
    func visibleJobs(_ collection: LiveCollection, requested: Int64?, caller: Caller) async throws -> [JobBody] {
        let open = try await api.pool.withConnection { try JobRecords.open(on: $0) }
        var ids = open.filter { $0.collectionID == collection.configuration.id }.map(\.id)
        if let requested, !ids.contains(requested) { ids.append(requested) }
        var jobs: [JobBody] = []
        for id in ids {
            guard let job = try? await api.job(id, visibleTo: caller), job.collection == collection.configuration.name else { continue }
            jobs.append(job)
        }
        return jobs
    }

    private func jobsSection(_ collection: LiveCollection, requested: Int64?, _ visit: Visit) async throws -> HTML {
        let name = collection.configuration.name
        var jobs = try await visibleJobs(collection, requested: requested, caller: visit.caller)
        let shown = Set(jobs.map(\.id))
        jobs += try await api.jobs(JobFilter(collection: name, limit: Self.finishedJobsListed), caller: visit.caller)
            .filter { !shown.contains($0.id) }
        let open = jobs.contains { $0.state == "queued" || $0.state == "running" }
        let rows = jobs.map { job -> HTML in
            let eta: String = job.etaSeconds.map { "about \(Int($0.rounded())) s left" } ?? ""
            let error: HTML = job.error.map { "<br><span class=\"error\">\($0)</span>" } ?? .empty
            let kind: String = job.kind + (job.tenant.map { " (tenant " + $0 + ")" } ?? "")
            let percent = String(Int((job.progress * 100).rounded()))
            return """
                <tr data-job="\(String(job.id))">
                <td class="num">\(String(job.id))</td><td>\(kind)</td>
                <td><span class="badge state-\(job.state)" data-state>\(job.state)</span>\(error)</td>
                <td><progress max="1" value="\(String(job.progress))" aria-label="job \(String(job.id)) progress">\(percent) %</progress>
                <span data-percent>\(percent) %</span> <span class="muted">\(eta)</span></td>
                <td><a href="\(Console.path("incidents", job.incidentID))">\(job.incidentID)</a></td>
                <td>\(ConsoleTime.html(job.createdAt))</td>
                </tr>
                """
        }
        let table: HTML = jobs.isEmpty ? "<p>No job has run yet.</p>" : """
            <div class="table-wrap"><table>
            <caption class="visually-hidden">Jobs of \(name)</caption>
            <thead><tr><th class="num">Job</th><th>Kind</th><th>State</th><th>Progress</th><th>Incident</th><th>Created</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        let reload = Console.path("collections", name) + (requested.map { "?job=" + String($0) } ?? "")
        let live: HTML = HTML.when(open) {
            """
            <p class="muted" data-live="\(Console.path("collections", name, "live"))">Progress updates on its own;
            without JavaScript, <a href="\(reload)">reload</a>.</p>
            """
        }
        return """
            <section aria-labelledby="jobs-heading">
            <h2 id="jobs-heading">Rebuilds</h2>
            \(table)
            \(live)
            \(HTML.when(visit.caller.role.may(.contain) && !open) { rebuildForm(collection, visit) })
            </section>
            """
    }

    private func rebuildForm(_ collection: LiveCollection, _ visit: Visit) -> HTML {
        let name = collection.configuration.name
        let tenants = visit.caller.tenant.map { [$0] } ?? collection.status().tenants
        let options = HTML.join(tenants.map { "<option value=\"\($0)\">tenant \($0)</option>" })
        let all: HTML = HTML.when(visit.caller.tenant == nil) { "<option value=\"\">every tenant</option>" }
        return """
            <form method="post" action="\(Console.path("collections", name, "rebuild"))" class="panel">
            \(csrfField(visit))
            <label for="rebuild-tenant">Partition to rebuild<select id="rebuild-tenant" name="tenant">\(all)\(options)</select></label>
            <label for="rebuild-reason">Reason<input type="text" id="rebuild-reason" name="reason" placeholder="rebuild after quarantine"></label>
            <p class="muted">The graph is rebuilt from the record minus the quarantine; meanwhile the partition answers from keyword search and an exact vector scan (degraded).</p>
            <button type="submit" name="action" value="rebuild">Start rebuild</button>
            </form>
            """
    }

    /// `{"mode": …, "open": n, "jobs": [{"id","state","progress"}]}` for the page's script.
    struct ConsoleLiveState: Encodable {
        struct Job: Encodable {
            var id: Int64
            var state: String
            var progress: Double
        }
        var mode: String
        var open: Int
        var jobs: [Job]
    }

    func live(_ name: String, _ visit: Visit) async throws -> Response {
        do {
            let collection = try api.collections.named(name)
            let jobs = visit.caller.role.may(.inspect) ? try await visibleJobs(collection, requested: nil, caller: visit.caller) : []
            let state = ConsoleLiveState(mode: collection.status(scope: visit.caller.tenant).mode.rawValue,
                                         open: jobs.filter { !$0.isFinished }.count,
                                         jobs: jobs.map { .init(id: $0.id, state: $0.state, progress: $0.progress) })
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(state))))
        } catch {
            let problem = Problem.from(error)
            return Self.text(problem.detail, status: problem.status)
        }
    }

    // MARK: Quarantine

    private func quarantineSection(_ collection: LiveCollection, latest: LatestScan?, _ visit: Visit) async throws -> HTML {
        let name = collection.configuration.name
        let entries = try await api.quarantineEntries(of: collection, caller: visit.caller)
        let evidence = try await api.quarantineEvidence(of: collection, caller: visit.caller)
        let detectors = latest.map(Self.detectorsByDocument) ?? [:]
        let canRelease = visit.caller.role.may(.command)
        let rows = entries.map { entry -> HTML in
            let action: HTML = HTML.when(canRelease) {
                """
                <td><form method="post" action="\(Console.path("collections", name, "release"))" class="inline">
                \(csrfField(visit))<input type="hidden" name="id" value="\(entry.externalID)">
                <input type="hidden" name="tenant" value="\(entry.tenant)">
                <input type="hidden" name="incident_id" value="\(entry.incidentID)">
                <label>Reason<input type="text" name="reason" required placeholder="false positive"></label>
                <button type="submit" name="action" value="release">Release</button></form></td>
                """
            }
            return """
                <tr data-document="\(entry.externalID)" data-tenant="\(entry.tenant)">
                <td><code>\(entry.externalID)</code></td><td>\(entry.tenant)</td>
                <td><a href="\(Console.path("incidents", entry.incidentID))">\(entry.incidentID)</a></td>
                <td>\(entry.quarantinedBy)</td><td>\(ConsoleTime.html(entry.quarantinedAt))</td><td>\(entry.reason)</td>
                <td>\(Self.evidence(evidence[entry.documentID]))\(Self.detectorWords(detectors[DocumentRef(id: entry.externalID, tenant: entry.tenant)]))</td>\(action)
                </tr>
                """
        }
        let table: HTML = entries.isEmpty ? "<p>No document of this collection is quarantined.</p>" : """
            <div class="table-wrap"><table id="quarantine">
            <caption class="visually-hidden">Quarantined documents of \(name)</caption>
            <thead><tr><th>Document</th><th>Tenant</th><th>Incident</th><th>By</th><th>When</th><th>Reason</th><th>Evidence</th>\(HTML.when(canRelease) { "<th>Release</th>" })</tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return """
            <section aria-labelledby="quarantine-heading">
            <h2 id="quarantine-heading">Quarantine (\(entries.count))</h2>
            \(table)
            \(HTML.when(canRelease && !entries.isEmpty) { "<p class=\"muted\">A release goes on the entry’s incident and serves the document again at once.</p>" })
            </section>
            """
    }

    struct DocumentRef: Hashable {
        let id: String
        let tenant: String
    }

    /// The z per detector of each document the latest scan flagged, by document.
    private static func detectorsByDocument(_ latest: LatestScan) -> [DocumentRef: ScanReport.Detectors] {
        let labelled = latest.labelled
        var found: [DocumentRef: ScanReport.Detectors] = [:]
        for (index, flagged) in labelled.report.flagged.enumerated() {
            found[DocumentRef(id: labelled.documentIDs[index], tenant: labelled.documentTenants[index])] = flagged.detectors
        }
        return found
    }

    /// The latest scan's z per detector for a quarantined document, when that scan flagged it.
    static func detectorWords(_ detectors: ScanReport.Detectors?) -> HTML {
        guard let detectors else { return .empty }
        var parts = ["hubness \(decimal(detectors.hubnessZ))", "stability \(decimal(detectors.stabilityZ))",
                     "spread \(decimal(detectors.spreadZ))"]
        if let domain = detectors.domainZ { parts.append("domain \(decimal(domain))") }
        if let real = detectors.realZ { parts.append("real queries \(decimal(real))") }
        return "<br><span class=\"muted\" data-detectors>latest scan, z per detector: \(parts.joined(separator: ", "))</span>"
    }

    /// The stored evidence in words: the score when one was given, and the content digests.
    static func evidence(_ evidence: QuarantineEvidence?) -> HTML {
        guard let evidence else { return "<span class=\"muted\">none stored</span>" }
        var parts: [HTML] = []
        if let score = evidence.score { parts.append("score (z) <strong>\(decimal(score))</strong>") }
        let text = evidence.textSHA256, vector = evidence.embeddingSHA256
        parts.append("text <code title=\"\(text)\">\(String(text.prefix(12)))…</code>")
        parts.append("embedding <code title=\"\(vector)\">\(String(vector.prefix(12)))…</code>")
        return HTML.join(parts, separator: "<br>")
    }

    // MARK: Snapshots

    private func snapshotSection(_ collection: LiveCollection, _ body: CollectionBody, _ visit: Visit) async throws -> HTML {
        let name = collection.configuration.name
        let snapshots = try await api.snapshotList(of: collection, caller: visit.caller)
        let canVerify = visit.caller.role.may(.contain)
        let rows = snapshots.map { listed -> HTML in
            let hash = listed.record.rootHash ?? ""
            let short: String = hash.isEmpty ? "—" : String(hash.prefix(16)) + "…"
            let documents: String = listed.documents.map { HTML.Interpolation.grouped($0) } ?? "—"
            let servable = listed.record.status == .published || listed.record.status == .verifiedClean
            let verify: HTML = HTML.when(canVerify && servable) {
                """
                <form method="post" action="\(Console.path("collections", name, "snapshots", listed.record.id, "verify"))" class="inline">
                \(csrfField(visit))<button type="submit" name="action" value="verify">Verify</button></form>
                """
            }
            return """
                <tr data-snapshot="\(listed.record.id)"><td><code>\(listed.record.id)</code></td><td><span class="badge">\(listed.record.status.rawValue)</span></td>
                <td><code title="\(hash)">\(short)</code></td>
                <td class="num">\(documents)</td><td>\(ConsoleTime.html(listed.createdAt))</td>\(HTML.when(canVerify) { "<td>\(verify)</td>" })</tr>
                """
        }
        let table: HTML = snapshots.isEmpty ? "<p>No snapshots yet.</p>" : """
            <div class="table-wrap"><table id="snapshots">
            <caption class="visually-hidden">Snapshots of \(name)</caption>
            <thead><tr><th>Snapshot</th><th>Status</th><th>Root hash</th><th class="num">Documents</th><th>Created</th>\(HTML.when(canVerify) { "<th>Check</th>" })</tr></thead>
            <tbody>\(rows)</tbody></table></div>
            \(HTML.when(canVerify) { "<p class=\"muted\">Verify checks the snapshot’s files against its root hash and scans what it would serve; a clean one becomes <code>verified_clean</code>, the target of “last-clean”.</p>" })
            """
        let targets = snapshots.filter { $0.record.status == .published || $0.record.status == .verifiedClean }
        let rollback: HTML = HTML.when(visit.caller.role.may(.command) && !targets.isEmpty) {
            rollbackChooser(name, targets, visit)
        }
        return """
            <section aria-labelledby="snapshots-heading">
            <h2 id="snapshots-heading">Snapshots</h2>
            \(table)
            \(rollback)
            </section>
            """
    }

    /// Step one of a rollback: choose the snapshot (a GET: the next page shows what changes).
    private func rollbackChooser(_ name: String, _ targets: [SnapshotRecords.Listed], _ visit: Visit) -> HTML {
        let clean = targets.first { $0.record.status == .verifiedClean }
        var options: [HTML] = []
        if let clean {
            let documents: String = clean.documents.map { HTML.Interpolation.grouped($0) } ?? "?"
            options.append("<option value=\"last-clean\">last-clean (\(clean.record.id), \(documents) documents)</option>")
        }
        options += targets.map { "<option value=\"\($0.record.id)\">\($0.record.id) · \($0.record.status.rawValue)</option>" }
        return """
            <form method="get" action="\(Console.path("collections", name, "rollback"))" class="panel" id="rollback-chooser">
            <label for="rollback-to">Roll back to<select id="rollback-to" name="snapshot_id">\(options)</select></label>
            <p class="muted">The next page lists the documents that would stop being served and asks you to confirm; nothing changes before that.</p>
            <button type="submit" value="preview">Preview rollback</button>
            </form>
            """
    }
}
