// Console+IncidentRecords — the incident page's records and their forms: the commander,
// decisions, evidence, action items with their verification, and the postmortem (rendered as
// HTML, with its Markdown and the signed export bundle a click away).
//
// Owns: those sections, their POST actions, and the two downloads under /console (a browser
// signed in to the console has no bearer token for /v1).
// Never: records anything itself. Each action calls the `API` function its JSON route calls
// (`assignCommander`, `decide`, `addEvidence`, `recordAction`, `recordPostmortem`), and each
// download the one its route serves (`PostmortemDocument.markdown`, `API.exportBundle`).
// Invariant: a form is shown only to a role whose API call would be allowed (commander:
// `command`; the others: `contain`); the server refuses the rest anyway.

import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import Incidents
import NIOCore

extension Console {
    func incidentRecords(_ incident: Incident, _ timeline: Timeline, _ visit: Visit) -> HTML {
        let canRecord = visit.caller.role.may(.contain)
        return """
            \(decisionsSection(incident, timeline, canRecord ? visit : nil))
            \(evidenceSection(incident, timeline, canRecord ? visit : nil))
            \(actionsSection(incident, timeline, canRecord ? visit : nil))
            \(postmortemSection(incident, timeline, canRecord ? visit : nil))
            """
    }

    func commanderForm(_ incident: Incident, _ visit: Visit) -> HTML {
        """
        <form method="post" action="\(Console.path("incidents", incident.id, "commander"))" class="inline" id="commander-form">
        \(csrfField(visit))
        <label for="commander-name">Commander<input type="text" id="commander-name" name="commander" required value="\(incident.commander ?? "")"></label>
        <button type="submit" name="action" value="commander">\(incident.commander == nil ? "Assign" : "Hand over")</button>
        </form>
        """
    }

    private func decisionsSection(_ incident: Incident, _ timeline: Timeline, _ visit: Visit?) -> HTML {
        let items = HTML.join(timeline.decisions.map { decision -> HTML in
            let notTaken: HTML = decision.optionsNotTaken.isEmpty ? .empty
                : "<br><span class=\"muted\">Not taken: \(decision.optionsNotTaken.joined(separator: "; "))</span>"
            return "<li><strong>\(decision.what)</strong> because \(decision.why) <span class=\"muted\">(\(decision.who))</span>\(notTaken)</li>"
        })
        let list: HTML = timeline.decisions.isEmpty ? "<p>None recorded.</p>" : "<ul id=\"decisions\">\(items)</ul>"
        let form: HTML = visit.map { visit in
            """
            <form method="post" action="\(Console.path("incidents", incident.id, "decisions"))" class="panel" id="decision-form">
            \(csrfField(visit))
            <label for="decision-what">Decision<input type="text" id="decision-what" name="what" required></label>
            <label for="decision-why">Why<input type="text" id="decision-why" name="why" required></label>
            <label for="decision-not-taken">Options not taken (one per line)<textarea id="decision-not-taken" name="options_not_taken" rows="2"></textarea></label>
            <button type="submit" name="action" value="decide">Record decision</button>
            </form>
            """
        } ?? .empty
        return """
            <section aria-labelledby="decisions-heading">
            <h2 id="decisions-heading">Decisions (\(timeline.decisions.count))</h2>
            \(list)
            \(form)
            </section>
            """
    }

    private func evidenceSection(_ incident: Incident, _ timeline: Timeline, _ visit: Visit?) -> HTML {
        let rows = HTML.join(timeline.evidence.map { item -> HTML in
            "<tr><td>\(item.kind)</td><td><code title=\"\(item.sha256)\">\(String(item.sha256.prefix(16)))…</code></td><td><code>\(item.location)</code></td><td>\(item.summary)</td></tr>"
        })
        let table: HTML = timeline.evidence.isEmpty ? "<p>None recorded.</p>" : """
            <div class="table-wrap"><table id="evidence"><thead><tr><th>Kind</th><th>SHA-256</th><th>Where</th><th>Summary</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        let form: HTML = visit.map { visit in
            """
            <form method="post" action="\(Console.path("incidents", incident.id, "evidence"))" class="panel" id="evidence-form">
            \(csrfField(visit))
            <label for="evidence-kind">Kind<input type="text" id="evidence-kind" name="kind" required placeholder="query_log"></label>
            <label for="evidence-sha256">SHA-256 of the captured bytes<input type="text" id="evidence-sha256" name="sha256" required pattern="[0-9a-f]{64}" autocomplete="off"></label>
            <label for="evidence-location">Where the bytes are kept<input type="text" id="evidence-location" name="location" required></label>
            <label for="evidence-summary">Summary<input type="text" id="evidence-summary" name="summary" required></label>
            <button type="submit" name="action" value="evidence">Add evidence</button>
            </form>
            """
        } ?? .empty
        return """
            <section aria-labelledby="evidence-heading">
            <h2 id="evidence-heading">Evidence (\(timeline.evidence.count))</h2>
            \(table)
            \(form)
            </section>
            """
    }

    private func actionsSection(_ incident: Incident, _ timeline: Timeline, _ visit: Visit?) -> HTML {
        let rows = HTML.join(timeline.actions.map { action -> HTML in
            let state: HTML = action.verificationEvidence.map { "<span class=\"badge state-succeeded\">closed</span> \($0)" }
                ?? "<span class=\"badge state-running\">open</span>"
            let close: HTML = HTML.when(visit != nil && !action.isClosed) {
                """
                <form method="post" action="\(Console.path("incidents", incident.id, "actions"))" class="inline">
                \(csrfField(visit!))<input type="hidden" name="close" value="\(String(action.number))">
                <label>Verification evidence<input type="text" name="verification_evidence" required></label>
                <button type="submit" name="action" value="close-action">Close</button></form>
                """
            }
            return """
                <tr data-action="\(String(action.number))"><td class="num">\(String(action.number))</td><td>\(action.title)</td><td>\(action.owner)</td>
                <td>\(action.due)</td><td>\(action.verification)</td><td>\(state)\(close)</td></tr>
                """
        })
        let table: HTML = timeline.actions.isEmpty ? "<p>None recorded.</p>" : """
            <div class="table-wrap"><table id="actions"><thead><tr><th class="num">#</th><th>Action</th><th>Owner</th><th>Due</th><th>Verified by</th><th>Status</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        let form: HTML = visit.map { visit in
            """
            <form method="post" action="\(Console.path("incidents", incident.id, "actions"))" class="panel" id="action-form">
            \(csrfField(visit))
            <label for="action-title">Action<input type="text" id="action-title" name="title" required></label>
            <label for="action-owner">Owner<input type="text" id="action-owner" name="owner" required></label>
            <label for="action-due">Due<input type="date" id="action-due" name="due" required></label>
            <label for="action-verification">How closing it is verified<input type="text" id="action-verification" name="verification" required></label>
            <button type="submit" name="action" value="add-action">Add action item</button>
            </form>
            """
        } ?? .empty
        return """
            <section aria-labelledby="actions-heading">
            <h2 id="actions-heading">Action items (\(timeline.actions.count))</h2>
            \(table)
            \(form)
            </section>
            """
    }

    private func postmortemSection(_ incident: Incident, _ timeline: Timeline, _ visit: Visit?) -> HTML {
        let postmortem = timeline.postmortem
        let body: HTML = postmortem.map { written in
            let parts: [(String, String)] = [("Summary", written.summary), ("Failing layer", written.failingLayer),
                                             ("Root cause", written.rootCause), ("Evaluation gaps", written.evaluationGaps),
                                             ("Regression case added", written.regressionCase)]
            return HTML.join(parts.filter { !$0.1.isEmpty }.map { title, text -> HTML in
                "<h3>\(title)</h3>\(Self.paragraphs(text))"
            })
        } ?? "<p>Not written yet.</p>"
        let downloads: HTML = """
            <p class="downloads"><a id="export-markdown" href="\(Console.path("incidents", incident.id, "postmortem.md"))" download>Postmortem as Markdown</a>
            · <a id="export-bundle" href="\(Console.path("incidents", incident.id, "export.json"))" download>Signed export bundle (JSON)</a>
            <span class="muted">— the bundle carries every event and the chain head, signed with this instance’s Ed25519 key, so it verifies offline.</span></p>
            """
        let form: HTML = visit.map { visit in
            let field = { (name: String, label: String, value: String?) -> HTML in
                "<label for=\"postmortem-\(name)\">\(label)<textarea id=\"postmortem-\(name)\" name=\"\(name)\" rows=\"3\">\(value ?? "")</textarea></label>"
            }
            return """
                <details\(postmortem == nil ? " open" : "")><summary>\(postmortem == nil ? "Write the postmortem" : "Revise the postmortem")</summary>
                <form method="post" action="\(Console.path("incidents", incident.id, "postmortem"))" class="panel" id="postmortem-form">
                \(csrfField(visit))
                \(field("summary", "Summary", postmortem?.summary))
                \(field("failing_layer", "Failing layer", postmortem?.failingLayer))
                \(field("root_cause", "Root cause", postmortem?.rootCause))
                \(field("evaluation_gaps", "Evaluation gaps", postmortem?.evaluationGaps))
                \(field("regression_case", "Regression case added", postmortem?.regressionCase))
                <button type="submit" name="action" value="postmortem">Record postmortem</button>
                </form></details>
                """
        } ?? .empty
        return """
            <section aria-labelledby="postmortem-heading" id="postmortem">
            <h2 id="postmortem-heading">Postmortem</h2>
            \(body)
            \(downloads)
            \(form)
            </section>
            """
    }

    /// Text as paragraphs, one per blank-line-separated block (a form's CRLF read as LF), each escaped.
    static func paragraphs(_ text: String) -> HTML {
        HTML.join(text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }.map { "<p>\($0)</p>" })
    }

    // MARK: Actions and downloads

    func addIncidentRecordRoutes(to router: Router<APIContext>) {
        action(router, "/console/incidents/:id/commander") { form, context, visit in
            let id = try context.parameters.require("id")
            guard let commander = form.text("commander") else { throw Problem(.badRequest, .invalidInput, "name the commander") }
            try await api.assignCommander(id, CommanderBody(commander: commander), caller: visit.caller)
            return (Console.path("incidents", id), "\(commander) is the commander of \(id).")
        }
        action(router, "/console/incidents/:id/decisions") { form, context, visit in
            let id = try context.parameters.require("id")
            guard let what = form.text("what"), let why = form.text("why") else {
                throw Problem(.badRequest, .invalidInput, "a decision needs what and why")
            }
            let notTaken = (form.text("options_not_taken") ?? "").split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            try await api.decide(id, DecisionBody(what: what, why: why, optionsNotTaken: notTaken), caller: visit.caller)
            return (Console.path("incidents", id), "Decision recorded on \(id).")
        }
        action(router, "/console/incidents/:id/evidence") { form, context, visit in
            let id = try context.parameters.require("id")
            guard let kind = form.text("kind"), let sha256 = form.text("sha256"), let location = form.text("location"),
                  let summary = form.text("summary") else {
                throw Problem(.badRequest, .invalidInput, "evidence needs kind, sha256, location and summary")
            }
            try await api.addEvidence(id, EvidenceBody(kind: kind, sha256: sha256, location: location, summary: summary), caller: visit.caller)
            return (Console.path("incidents", id), "Evidence added to \(id).")
        }
        action(router, "/console/incidents/:id/actions") { form, context, visit in
            let id = try context.parameters.require("id")
            if let close = form.text("close") {
                guard let number = Int(close) else { throw Problem(.badRequest, .invalidInput, "close names an action item by number") }
                try await api.recordAction(id, ActionBody(close: number, verificationEvidence: form.text("verification_evidence")),
                                           caller: visit.caller)
                return (Console.path("incidents", id), "Action item \(number) of \(id) is closed.")
            }
            try await api.recordAction(id, ActionBody(title: form.text("title"), owner: form.text("owner"), due: form.text("due"),
                                                      verification: form.text("verification")), caller: visit.caller)
            return (Console.path("incidents", id), "Action item added to \(id).")
        }
        action(router, "/console/incidents/:id/postmortem") { form, context, visit in
            let id = try context.parameters.require("id")
            let body = PostmortemBody(summary: form.text("summary") ?? "", failingLayer: form.text("failing_layer") ?? "",
                                      rootCause: form.text("root_cause") ?? "", evaluationGaps: form.text("evaluation_gaps"),
                                      regressionCase: form.text("regression_case") ?? "")
            try await api.recordPostmortem(id, body, caller: visit.caller)
            return (Console.path("incidents", id), "The postmortem of \(id) is recorded.")
        }
        download(router, "/console/incidents/:id/postmortem.md") { context, visit in
            let id = try context.parameters.require("id")
            try visit.caller.require(.inspect)
            let (incident, timeline) = try await api.incident(id, visibleTo: visit.caller)
            return (Data(PostmortemDocument.markdown(incident, timeline).utf8), "text/markdown; charset=utf-8", "\(incident.id)-postmortem.md")
        }
        download(router, "/console/incidents/:id/export.json") { context, visit in
            let bundle = try await api.exportBundle(try context.parameters.require("id"), caller: visit.caller)
            return (try bundle.encodedJSON(), "application/json", "\(bundle.incident.id).json")
        }
    }

    /// A file for a signed-in visit, as an attachment; errors are pages.
    private func download(_ router: Router<APIContext>, _ path: RouterPath,
                          _ make: @escaping @Sendable (APIContext, Visit) async throws -> (Data, String, String)) {
        router.get(path) { request, context in
            guard let visit = try await currentVisit(request) else { return Self.redirect("/console/sign-in") }
            do {
                let (data, type, filename) = try await make(context, visit)
                return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store", .xContentTypeOptions: "nosniff",
                                                       API.contentDispositionHeader: API.attachment(filename)],
                                body: .init(byteBuffer: ByteBuffer(bytes: data)))
            } catch {
                return try await errorPage(Problem.from(error), visit)
            }
        }
    }
}
