// Console+Overview — the first page: every collection with its mode and counts (a rebuilding
// one with its jobs' progress), and every replica with the change-log position it has applied.
//
// Owns: the overview's layout.
// Never: counts outside the caller's tenant scope (it shows what `GET /v1/collections` shows
// the same token, through the same `API.describe`).
// Invariant: one card per collection, in name order.

import Engine
import FirebreakAPI
import Foundation
import Store

extension Console {
    func overview(_ visit: Visit) async throws -> HTML {
        var cards: [HTML] = []
        for collection in api.collections.all.sorted(by: { $0.configuration.name < $1.configuration.name }) {
            let body = try await api.describe(collection, scope: visit.caller.tenant)
            let jobs = visit.caller.role.may(.inspect) && body.mode == CollectionMode.rebuilding.rawValue
                ? try await visibleJobs(collection, requested: nil, caller: visit.caller).filter { !$0.isFinished } : []
            cards.append(card(body, rebuilding: jobs))
        }
        let list: HTML = cards.isEmpty
            ? "<p>No collections yet. Create one with <code>firebreak collections create</code>.</p>"
            : "<div class=\"cards\">\(cards)</div>"
        let readerNote: HTML = HTML.when(!visit.caller.role.may(.inspect)) {
            "<p class=\"muted\">Your role (reader) sees collection status. Quarantine lists, snapshots and incidents need retrieval_owner or above.</p>"
        }
        return try await layout(title: "Overview", visit, """
            <h1>Overview</h1>
            \(readerNote)
            <section aria-labelledby="collections-heading">
            <h2 id="collections-heading">Collections</h2>
            \(list)
            </section>
            \(try await replicasSection())
            """)
    }

    /// Every replica with the change-log position it has applied, against the log's head: a
    /// replica behind or silent answers reads from an older state (or refuses `min_seq`).
    private func replicasSection() async throws -> HTML {
        let (replicas, head) = try await api.pool.withConnection { connection in
            (try ReplicaRecords.all(on: connection), try ChangeLog.head(on: connection))
        }
        let this = api.collections.replica.name
        let rows = HTML.join(replicas.map { replica -> HTML in
            let live = replica.silentSeconds < ReplicaRecords.silentSecondsMax
            let behind = max(0, head - replica.appliedSeq)
            let state: HTML = !live ? "<span class=\"badge state-failed\">silent</span>"
                : replica.problem != nil ? "<span class=\"badge state-failed\">stopped</span>"
                : behind == 0 ? "<span class=\"badge state-succeeded\">current</span>"
                : "<span class=\"badge state-running\">behind</span>"
            let problem: HTML = replica.problem.map { "<br><span class=\"error\">\($0)</span>" } ?? .empty
            return """
                <tr data-replica="\(replica.name)"><td><code>\(replica.name)</code>\(replica.name == this ? " (this page)" : "")</td>
                <td class="num">\(replica.appliedSeq)</td><td class="num">\(behind)</td>
                <td>\(state)\(problem)</td><td class="num">\(String(format: "%.0f", replica.silentSeconds)) s ago</td></tr>
                """
        })
        let table: HTML = replicas.isEmpty ? "<p>No replica has reported yet.</p>" : """
            <div class="table-wrap"><table id="replicas">
            <caption class="visually-hidden">Replicas</caption>
            <thead><tr><th>Replica</th><th class="num">Applied change</th><th class="num">Behind the head</th><th>State</th><th class="num">Last heartbeat</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return """
            <section aria-labelledby="replicas-heading">
            <h2 id="replicas-heading">Replicas</h2>
            <p class="muted">The change log’s head is change \(head).</p>
            \(table)
            </section>
            """
    }

    private func card(_ body: CollectionBody, rebuilding jobs: [JobBody]) -> HTML {
        let flags: HTML = body.flags.isEmpty ? "none"
            : HTML.join(body.flags.map { flag -> HTML in
                let tenant: String = flag.tenant.map { " (tenant " + $0 + ")" } ?? ""
                return "<code>\(flag.flag)</code>\(tenant)"
            }, separator: ", ")
        let scan: HTML = body.lastScan.map { "\(ConsoleTime.html($0.at)), max z \(Self.decimal($0.maxZ))" } ?? "never"
        return """
            <article class="card" data-collection="\(body.name)">
            <h2><a href="\(Console.path("collections", body.name))">\(body.name)</a> \(Self.modeBadge(body.mode))</h2>
            <dl class="facts">
            <dt>Documents</dt><dd>\(body.documents)</dd>
            <dt>Quarantined</dt><dd>\(body.quarantined)</dd>
            <dt>Tenants</dt><dd>\(body.tenants.count)</dd>
            <dt>Flags</dt><dd>\(flags)</dd>
            <dt>Last scan</dt><dd>\(scan)</dd>
            \(HTML.join(jobs.map(Self.jobProgress)))
            </dl>
            </article>
            """
    }

    /// A running job's progress on a card: `rebuild (tenant acme): 40 %, about 12 s left`.
    private static func jobProgress(_ job: JobBody) -> HTML {
        let percent = String(Int((job.progress * 100).rounded()))
        let eta: String = job.etaSeconds.map { ", about \(Int($0.rounded())) s left" } ?? ""
        let kind = job.kind + (job.tenant.map { " (tenant " + $0 + ")" } ?? "")
        return """
            <dt>Job \(String(job.id))</dt><dd data-overview-job="\(String(job.id))">\(kind): <progress max="1" value="\(String(job.progress))" aria-label="job \(String(job.id)) progress">\(percent) %</progress> \(percent) %\(eta)</dd>
            """
    }

    static func modeBadge(_ mode: String) -> HTML {
        "<span class=\"badge mode-\(mode)\" data-mode=\"\(mode)\">\(mode)</span>"
    }

    /// `9.2`, `12.0`: one decimal.
    static func decimal(_ value: Double) -> String { value.isFinite ? String(format: "%.1f", value) : "—" }
}
