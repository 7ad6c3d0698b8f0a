// Console+Incidents — the incident list (filtered by status and severity) and the incident
// page: its facts, the allowed next statuses, the blast radius, its records (decisions,
// evidence, action items, postmortem: Console+IncidentRecords), and the timeline with its
// hash chain checked.
//
// Owns: the two incident pages.
// Never: lists an incident the caller could not read over the API (the list is
// `API.incidents`, the page `API.incident(_:visibleTo:)`); marks a chain verified that
// `Timeline.verify()` did not verify on this request.
// Invariant: each timeline event shows its actor, its time in UTC, its payload in words, and
// the raw event (payload, hashes) behind a <details>.

import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import HummingbirdCore
import Incidents

extension Console {
    func incidentsPage(_ query: FlatDictionary<Substring, Substring>, _ visit: Visit) async throws -> HTML {
        let filter = try IncidentFilter(query: query)
        let incidents = try await api.incidents(filter, caller: visit.caller)
        let statusOptions = HTML.join(IncidentStatus.allCases.map { status -> HTML in
            let selected: HTML = filter.status == status ? " selected" : .empty
            return "<option value=\"\(status.rawValue)\"\(selected)>\(status.rawValue)</option>"
        })
        let severityOptions = HTML.join(Severity.allCases.map { severity -> HTML in
            let selected: HTML = filter.severity == severity ? " selected" : .empty
            return "<option value=\"\(severity.rawValue)\"\(selected)>\(severity.rawValue)</option>"
        })
        let rows = incidents.map { incident -> HTML in
            let collection = incident.collection ?? "—", tenant = incident.tenant ?? "—"
            return """
            <tr data-incident="\(incident.id)">
            <td><a href="\(Console.path("incidents", incident.id))">\(incident.id)</a></td><td>\(incident.title)</td>
            <td class="sev">\(incident.severity)</td><td><span class="badge">\(incident.status)</span></td>
            <td>\(collection)</td><td>\(tenant)</td>
            <td class="num">\(incident.events)</td><td>\(ConsoleTime.html(incident.detectedAt))</td>
            </tr>
            """
        }
        let table: HTML = incidents.isEmpty ? "<p>No incident matches.</p>" : """
            <div class="table-wrap"><table id="incidents">
            <caption class="visually-hidden">Incidents</caption>
            <thead><tr><th>Incident</th><th>Title</th><th>Severity</th><th>Status</th><th>Collection</th><th>Tenant</th><th class="num">Events</th><th>Detected</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return try await layout(title: "Incidents", visit, """
            <h1>Incidents</h1>
            <form method="get" action="/console/incidents" class="inline" role="search" aria-label="Filter incidents">
            <label for="filter-status">Status<select id="filter-status" name="status"><option value="">any</option>\(statusOptions)</select></label>
            <label for="filter-severity">Severity<select id="filter-severity" name="severity"><option value="">any</option>\(severityOptions)</select></label>
            <button type="submit">Filter</button>
            </form>
            <p class="muted">Newest first, at most \(filter.limit).</p>
            \(table)
            """)
    }

    func incidentPage(_ id: String, _ visit: Visit) async throws -> HTML {
        let caller = visit.caller
        try caller.require(.inspect)
        let (incident, timeline) = try await api.incident(id, visibleTo: caller)
        let verification = timeline.verify()
        let chain: HTML = verification.intact
            ? "<span class=\"badge chain-ok\" id=\"chain\" data-intact=\"true\">chain verified</span> <span class=\"muted\">\(timeline.events.count) events, head <code>\(String(timeline.head.prefix(16)))…</code></span>"
            : "<span class=\"badge chain-bad\" id=\"chain\" data-intact=\"false\">chain broken</span> <span class=\"error\">at event \(String(verification.firstBadSequence ?? 0)): \(verification.problem ?? "")</span>"
        let next = incident.status.allowedNext.map(\.rawValue).sorted()
        let nextWords = next.isEmpty ? "nothing (closed)" : next.joined(separator: " or ")
        let commander = incident.commander ?? "not assigned"
        let tenant = incident.tenant ?? "—"
        let contained = incident.contained ? "yes" : "no"
        let trace: HTML = incident.traceparent.map { "<dt>Trace</dt><dd><code>\($0)</code></dd>" } ?? .empty
        let actions: HTML = caller.role.may(.command) && !next.isEmpty ? transitionForm(incident, next, visit) : .empty
        let events = timeline.events.map(Self.event)
        let radius = try? await api.collections.blastRadius(incidentID: incident.id)
        return try await layout(title: incident.id, visit, """
            <h1>\(incident.id): \(incident.title)</h1>
            <p>\(chain)</p>
            <section aria-labelledby="facts-heading">
            <h2 id="facts-heading">Incident</h2>
            <dl class="facts">
            <dt>Severity</dt><dd><span class="sev">\(incident.severity.rawValue)</span> — \(incident.severity.meaning)</dd>
            <dt>Status</dt><dd><span class="badge" id="status">\(incident.status.rawValue)</span>; may move to \(nextWords)</dd>
            <dt>Class</dt><dd>\(incident.taxonomyClass.rawValue)</dd>
            <dt>Commander</dt><dd>\(commander)\(HTML.when(caller.role.may(.command)) { commanderForm(incident, visit) })</dd>
            <dt>Reporter</dt><dd>\(incident.reporter)</dd>
            <dt>Collection</dt><dd>\(collectionLink(incident.collection))</dd>
            <dt>Tenant</dt><dd>\(tenant)</dd>
            <dt>Detected</dt><dd>\(ConsoleTime.html(incident.detectedAt))</dd>
            <dt>Contained</dt><dd>\(contained)</dd>
            \(trace)
            </dl>
            \(actions)
            </section>
            \(blastRadius(radius, caller: caller))
            \(incidentRecords(incident, timeline, visit))
            <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">Timeline</h2>
            <ol class="timeline" id="timeline">\(events)</ol>
            </section>
            <p><a href="/console/incidents">All incidents</a></p>
            """)
    }

    private func collectionLink(_ name: String?) -> HTML {
        guard let name else { return "—" }
        guard (try? api.collections.named(name)) != nil else { return "\(name)" }
        return "<a href=\"\(Console.path("collections", name))\">\(name)</a>"
    }

    private func transitionForm(_ incident: Incident, _ next: [String], _ visit: Visit) -> HTML {
        let options = HTML.join(next.map { "<option value=\"\($0)\">\($0)</option>" })
        return """
            <form method="post" action="\(Console.path("incidents", incident.id, "transition"))" class="panel">
            \(csrfField(visit))
            <label for="transition-status">Move to<select id="transition-status" name="status">\(options)</select></label>
            <label for="transition-reason">Reason<input type="text" id="transition-reason" name="reason" required></label>
            <p class="muted">Resolving is refused while the collection still rebuilds or serves a document the newest scan flagged.</p>
            <button type="submit" name="action" value="transition">Change status</button>
            </form>
            """
    }

    private func blastRadius(_ radius: BlastRadius?, caller: Caller) -> HTML {
        guard let radius else { return .empty }
        let visible = radius.tenants.filter { caller.tenant == nil || $0.tenant == caller.tenant }
        let requests = visible.reduce(0) { $0 + $1.requests }
        let words = "\(radius.documents == 1 ? "1 quarantined document" : "\(HTML.Interpolation.grouped(radius.documents)) quarantined documents"); "
            + "\(requests == 1 ? "1 logged request was" : "\(HTML.Interpolation.grouped(requests)) logged requests were") served them."
        let rows = visible.map { exposure -> HTML in
            "<tr><td>\(exposure.tenant)</td><td class=\"num\">\(exposure.requests)</td><td>\(ConsoleTime.html(exposure.first))</td><td>\(ConsoleTime.html(exposure.last))</td></tr>"
        }
        let table: HTML = visible.isEmpty ? "<p>No logged search was served these documents.</p>" : """
            <div class="table-wrap"><table><thead><tr><th>Tenant</th><th class="num">Requests</th><th>First</th><th>Last</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        return """
            <section aria-labelledby="radius-heading">
            <h2 id="radius-heading">Blast radius</h2>
            <p>\(words)</p>
            \(table)
            </section>
            """
    }

    static func event(_ event: IncidentEvent) -> HTML {
        let encoder = JSONEncoder.api
        encoder.outputFormatting.insert(.prettyPrinted)
        let json = (try? encoder.encode(EventBody(event))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let trace: HTML = (event.traceID ?? event.payload["traceparent"]?.string)
            .map { "<br><span class=\"muted\">trace <code>\($0)</code></span>" } ?? .empty
        return """
            <li data-kind="\(event.kind.slug)" data-sequence="\(String(event.sequence))">
            <div><span class="what">\(EventWording.title(event.kind))</span> · \(ConsoleTime.html(event.at)) · <span class="muted">\(event.actor)</span></div>
            <div>\(EventWording.sentence(event))\(trace)</div>
            <details><summary>Raw event #\(String(event.sequence))</summary><pre>\(json)</pre></details>
            </li>
            """
    }
}
