// ConsoleLayout — the frame around every console page: head, navigation, who is signed in,
// the degraded banner, the one-shot notice.
//
// Owns: the page skeleton and the banner that names each collection the caller can see that
// is not serving normally (rebuilding or frozen) and the incident it is under.
// Never: shows a collection or a job outside the caller's tenant scope; names an incident to a
// caller who may not inspect incidents.
// Invariant: the banner is computed on every page from the live collections, so it is there
// exactly while something the caller can see is degraded (and redrawn by the script from
// /console/live while the page stays open).

import Engine
import Foundation
import Store

enum ConsoleLayout {
    /// A page without a session (sign-in, errors before sign-in).
    static func bare(title: String, _ body: HTML) -> HTML {
        document(title: title, header: "<header class=\"top\"><a href=\"/console\">Firebreak console</a></header>",
                 banner: .empty, body: body)
    }

    static func document(title: String, header: HTML, banner: HTML, body: HTML) -> HTML {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · Firebreak</title>
        <link rel="stylesheet" href="/console/assets/\(ConsoleAssets.stylesheet.name)">
        <script src="/console/assets/\(ConsoleAssets.script.name)" defer></script>
        </head>
        <body>
        \(header)
        \(banner)
        <main id="main">
        \(body)
        </main>
        </body>
        </html>
        """
    }
}

/// One collection the caller can see that is not serving normally.
struct Degradation: Sendable, Equatable {
    let collection: String
    let mode: CollectionMode
    let incidentIDs: [String]
}

extension Console {
    /// The whole page for a signed-in visit.
    func layout(title: String, _ visit: Visit, _ body: HTML) async throws -> HTML {
        let caller = visit.caller
        let who = caller.role.rawValue + (caller.tenant.map { " · tenant " + $0 } ?? "")
        let header: HTML = """
            <header class="top">
            <a href="/console">Firebreak console</a>
            <nav aria-label="Main"><a href="/console">Overview</a>\(HTML.when(caller.role.may(.inspect)) { "<a href=\"/console/incidents\">Incidents</a>" })</nav>
            <div class="who"><span>Signed in as \(who) (token \(String(caller.tokenID)))</span>
            <form method="post" action="/console/sign-out" class="inline">\(csrfField(visit))<button type="submit">Sign out</button></form></div>
            </header>
            """
        let notice: HTML = visit.notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? .empty
        return ConsoleLayout.document(title: title, header: header, banner: try await banner(caller), body: notice + body)
    }

    /// The hidden fields every action form carries: the session's CSRF token and a one-time
    /// key, so that submitting the same form twice acts once.
    func csrfField(_ visit: Visit) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(visit.session.csrf)\"><input type=\"hidden\" name=\"form_key\" value=\"\(ConsoleSessions.formKey())\">"
    }

    /// The collections the caller can see that are rebuilding or frozen, with the incidents
    /// of their open jobs.
    func degradations(_ caller: Caller) async throws -> [Degradation] {
        let degraded = api.collections.all.compactMap { collection -> (LiveCollection, CollectionMode)? in
            let mode = collection.status(scope: caller.tenant).mode
            return mode == .serving ? nil : (collection, mode)
        }
        guard !degraded.isEmpty else { return [] }
        let open = try await api.pool.withConnection { try JobRecords.open(on: $0) }
        return degraded.map { collection, mode in
            let incidents = open.filter {
                $0.collectionID == collection.configuration.id && (caller.tenant == nil || $0.tenant == nil || $0.tenant == caller.tenant)
            }.map(\.incidentID)
            return Degradation(collection: collection.configuration.name, mode: mode, incidentIDs: Array(Set(incidents)).sorted())
        }
    }

    /// What the banner says of a degraded collection (the page's and the script's wording).
    static func degradationWords(_ mode: CollectionMode) -> String {
        mode == .rebuilding ? "rebuilding: vector search answers from an exact scan and keyword search (slower)"
                            : "frozen: ingestion is refused"
    }

    /// The banner's slot on every page; the script polls `/console/live` and redraws it when
    /// a collection becomes degraded or serves again, so the page need not be reloaded.
    private func banner(_ caller: Caller) async throws -> HTML {
        let degraded = try await degradations(caller)
        let items = degraded.map { item -> HTML in
            let incidents: HTML = caller.role.may(.inspect) && !item.incidentIDs.isEmpty
                ? " — under " + HTML.join(item.incidentIDs.map { "<a href=\"\(Console.path("incidents", $0))\">\($0)</a>" }, separator: ", ")
                : .empty
            return "<li><a href=\"\(Console.path("collections", item.collection))\">\(item.collection)</a> is \(Self.degradationWords(item.mode))\(incidents)</li>"
        }
        let shown: HTML = degraded.isEmpty ? .empty : """
            <div class="banner" role="alert" id="degraded-banner"><strong>Degraded:</strong>
            <ul>\(items)</ul></div>
            """
        return "<div id=\"banner-slot\" data-banner=\"/console/live\">\(shown)</div>"
    }

    /// `{"degraded": [{"collection", "words", "incidents"}]}`: the banner, for the script.
    struct ConsoleBannerState: Encodable {
        struct Item: Encodable {
            var collection: String
            var words: String
            var incidents: [String]
        }
        var degraded: [Item]
    }

    func liveBanner(_ visit: Visit) async throws -> ConsoleBannerState {
        let inspect = visit.caller.role.may(.inspect)
        return ConsoleBannerState(degraded: try await degradations(visit.caller).map {
            .init(collection: $0.collection, words: Self.degradationWords($0.mode), incidents: inspect ? $0.incidentIDs : [])
        })
    }
}

extension HTML {
    static func + (lhs: HTML, rhs: HTML) -> HTML { "\(lhs)\(rhs)" }
}
