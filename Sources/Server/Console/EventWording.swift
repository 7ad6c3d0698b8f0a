// EventWording — an incident event's payload in words, for people reading the timeline.
//
// Owns: one sentence per event kind the service writes, and a plain fallback for the rest.
// Never: changes or hides what the event holds (the raw event is one click away on the page;
// the sentence is a reading of it, not a replacement).
// Invariant: pure: the same event gives the same words; unknown kinds and missing fields
// never fail, they fall back to "key: value" pairs.

import Incidents

enum EventWording {
    /// A short title for the kind (`quarantined` → "Quarantined").
    static func title(_ kind: EventKind) -> String {
        switch kind {
        case .declared: return "Declared"
        case .transitioned: return "Status changed"
        case .commanderAssigned: return "Commander assigned"
        case .quarantined: return "Quarantined"
        case .released: return "Released"
        case .flagChanged: return "Flag changed"
        case .rebuildStarted: return "Rebuild started"
        case .rebuildSucceeded: return "Rebuild succeeded"
        case .rebuildFailed: return "Rebuild failed"
        case .rebuildCancelled: return "Rebuild cancelled"
        case .rollback: return "Rolled back"
        case .blastRadius: return "Blast radius"
        case .decision: return "Decision"
        case .evidence: return "Evidence"
        case .actionAdded: return "Action item added"
        case .actionClosed: return "Action item closed"
        case .postmortem: return "Postmortem"
        case .unlisted(let slug): return slug.replacingOccurrences(of: "_", with: " ").capitalized
        }
    }

    /// What happened, in a sentence.
    static func sentence(kind: EventKind, payload all: [String: String]) -> String {
        let p = withoutTrace(all)
        func count(_ list: String?) -> Int { (list ?? "").split(separator: ",").count }
        func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
        func tail(_ key: String, _ prefix: String) -> String {
            guard let value = p[key], !value.isEmpty else { return "" }
            return prefix + value
        }
        var words: String
        switch kind {
        case .declared:
            words = "\(p["severity"] ?? "?") incident declared: “\(p["title"] ?? "")”"
            words += tail("collection", " on collection ")
            words += tail("tenant", ", tenant ")
        case .transitioned:
            words = "Moved from \(p["from"] ?? "?") to \(p["to"] ?? "?")"
            words += tail("reason", ": ")
        case .commanderAssigned:
            words = "\(p["commander"] ?? "?") is the incident commander"
            words += tail("previous", " (was ") + (p["previous"]?.isEmpty == false ? ")" : "")
        case .quarantined:
            words = "Withheld \(plural(count(p["documents"]), "document")) from every search"
            let already = Int(p["already_quarantined"] ?? "0") ?? 0
            if already > 0 { words += " (\(already) already withheld)" }
            words += tail("reason", ": ")
        case .released:
            words = "Served \(plural(count(p["documents"]), "document")) again"
            words += tail("reason", ": ")
        case .flagChanged:
            let state = p["enabled"] == "true" ? "on" : "off"
            words = "\(p["flag"] ?? "A flag") turned \(state)"
            let tenant = tail("tenant", " for tenant ")
            words += tenant.isEmpty ? " for the whole collection" : tenant
        case .rebuildStarted:
            let tenants = tail("tenants", "")
            words = "Rebuild job \(p["job_id"] ?? "?") started on \(p["collection"] ?? "the collection")"
            words += " (\(tenants.isEmpty ? "every partition" : tenants)); keyword search and an exact scan serve meanwhile"
        case .rollback:
            words = "Rolled back to snapshot \(p["snapshot_id"] ?? "?")"
            if let retired = p["documents_retired"] { words += "; \(retired) documents ingested after it stopped being served" }
        case .blastRadius:
            words = "\(p["requests"] ?? "?") requests from \(p["tenants"] ?? "?") tenants were served the \(p["documents"] ?? "?") quarantined documents"
        case .decision:
            words = "Decided: \(p["what"] ?? "?")"
            words += tail("why", ", because ")
        case .evidence:
            words = "Evidence (\(p["kind"] ?? "?")): \(p["summary"] ?? "")"
            words += tail("location", " at ")
        case .actionAdded:
            words = "Action item: \(p["title"] ?? "?")"
            words += tail("owner", ", owner ")
            words += tail("due", ", due ")
        case .actionClosed:
            words = "Action item \(p["number"] ?? "") closed"
            words += tail("verification_evidence", " with evidence: ")
        case .postmortem:
            words = "Postmortem written"
            words += tail("summary", ": ")
        case .rebuildSucceeded, .rebuildFailed, .rebuildCancelled:
            let state = kind.slug.dropFirst("rebuild_".count)
            words = "Rebuild job \(p["job_id"] ?? "?") \(state)"
            var details = p
            details["job_id"] = nil
            if !details.isEmpty { words += "; " + fallback(details) }
        case .unlisted:
            return fallback(p)
        }
        return words + "."
    }

    /// The trace is shown beside the sentence, not in it.
    static func withoutTrace(_ payload: [String: String]) -> [String: String] {
        payload.filter { $0.key != TraceContext.traceIDKey && $0.key != TraceContext.spanIDKey }
    }

    static func fallback(_ all: [String: String]) -> String {
        let payload = withoutTrace(all)
        return payload.isEmpty ? "No details." : payload.keys.sorted().map { "\($0.replacingOccurrences(of: "_", with: " ")): \(payload[$0] ?? "")" }
            .joined(separator: "; ")
    }
}
