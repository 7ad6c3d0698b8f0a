// Console+Rollback — the rollback's confirmation page: what a rollback to the chosen snapshot
// would change, then the typed confirmation that carries it out.
//
// Owns: the page at GET /console/collections/{name}/rollback?snapshot_id=…&tenant=….
// Never: changes anything (the preview is `API.rollbackPreview`, which reads); confirms a
// different snapshot than the one previewed (the form carries the resolved id, never
// "last-clean", so a newer clean snapshot cannot slip in between the two pages).
// Invariant: the list names every document that would stop being served, up to
// `previewListedMax`, and says how many more there are.

import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import HummingbirdCore

extension Console {
    static let previewListedMax = 500

    func rollbackPage(_ name: String, _ query: FlatDictionary<Substring, Substring>, _ visit: Visit) async throws -> HTML {
        let collection = try api.collections.named(name)
        guard let requested = query["snapshot_id"].map(String.init), !requested.isEmpty else {
            throw Problem(.badRequest, .invalidInput, "choose a snapshot to roll back to")
        }
        let tenant = query["tenant"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let preview = try await api.rollbackPreview(requested, tenant: tenant, of: collection, caller: visit.caller)
        let stopping = preview.stopServing
        let listed = HTML.join(stopping.prefix(Self.previewListedMax).map { document -> HTML in
            "<li data-stops=\"\(document.id)\" data-tenant=\"\(document.tenant)\"><code>\(document.id)</code> <span class=\"muted\">tenant \(document.tenant)</span></li>"
        })
        let more: HTML = HTML.when(stopping.count > Self.previewListedMax) {
            "<p class=\"muted\">and \(stopping.count - Self.previewListedMax) more.</p>"
        }
        let changes: HTML = stopping.isEmpty
            ? "<p id=\"rollback-changes\">No document stops being served: everything served now is in the snapshot.</p>"
            : """
              <p id="rollback-changes"><strong>\(stopping.count) \(stopping.count == 1 ? "document stops" : "documents stop") being served</strong>
              (ingested after the snapshot; they stay in the record as evidence):</p>
              <ul class="changes">\(listed)</ul>\(more)
              """
        let scope = preview.tenants.isEmpty ? "no partition" : preview.tenants.map { "tenant " + $0 }.joined(separator: ", ")
        return try await layout(title: "Roll back \(name)", visit, """
            <h1>Roll back <code>\(name)</code> to <code>\(preview.snapshotID)</code></h1>
            <dl class="facts">
            <dt>Snapshot</dt><dd><code>\(preview.snapshotID)</code>\(requested == preview.snapshotID ? "" : " (\(requested))")</dd>
            <dt>Root hash</dt><dd><code>\(preview.rootHash)</code></dd>
            <dt>Partitions</dt><dd>\(scope)</dd>
            <dt>Still served</dt><dd>\(preview.keptServing) documents</dd>
            </dl>
            \(changes)
            <p>Documents deleted since the snapshot stay deleted, and the quarantine stays applied: a rollback never serves a withheld document again.</p>
            <form method="post" action="\(Console.path("collections", name, "rollback"))" class="panel" data-confirm-with="\(name)">
            \(csrfField(visit))<input type="hidden" name="snapshot_id" value="\(preview.snapshotID)">
            <input type="hidden" name="tenant" value="\(tenant ?? "")">
            <label for="rollback-reason">Reason<input type="text" id="rollback-reason" name="reason" required></label>
            <label for="rollback-confirm"><span>Type the collection name (<code>\(name)</code>) to confirm</span><input type="text" id="rollback-confirm" name="confirm" autocomplete="off" required></label>
            <button type="submit" class="danger" name="action" value="rollback">Roll back</button>
            </form>
            <p><a href="\(Console.path("collections", name))">Back to \(name) without rolling back</a></p>
            """)
    }
}
