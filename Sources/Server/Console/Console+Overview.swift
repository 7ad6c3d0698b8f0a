// Console+Overview — the first page: every collection with its mode and counts.
//
// Owns: the overview's layout.
// Never: counts outside the caller's tenant scope (it shows what `GET /v1/collections` shows
// the same token, through the same `API.describe`).
// Invariant: one card per collection, in name order.

import FirebreakAPI
import Foundation

extension Console {
    func overview(_ visit: Visit) async throws -> HTML {
        var cards: [HTML] = []
        for collection in api.collections.all.sorted(by: { $0.configuration.name < $1.configuration.name }) {
            let body = try await api.describe(collection, scope: visit.caller.tenant)
            cards.append(card(body))
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
            """)
    }

    private func card(_ body: CollectionBody) -> HTML {
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
            </dl>
            </article>
            """
    }

    static func modeBadge(_ mode: String) -> HTML {
        "<span class=\"badge mode-\(mode)\" data-mode=\"\(mode)\">\(mode)</span>"
    }

    /// `9.2`, `12.0`: one decimal.
    static func decimal(_ value: Double) -> String { value.isFinite ? String(format: "%.1f", value) : "—" }
}
