// EventWording — an incident event's payload in words, for people reading the timeline.
//
// Owns: one sentence per event kind the service writes, and a plain fallback for the rest.
// Never: changes or hides what the event holds (the raw event is one click away on the page;
// the sentence is a reading of it, not a replacement).
// Invariant: pure: the same event gives the same words; unknown kinds and missing fields
// never fail, they fall back to "key: value" pairs.

import FirebreakAPI
import Incidents

enum EventWording {
    /// A short title for the kind (`quarantined` → "Quarantined").
    static func title(_ kind: String) -> String {
        switch kind {
        case "declared": return "Declared"
        case "transitioned": return "Status changed"
        case "commander_assigned": return "Commander assigned"
        case "quarantined": return "Quarantined"
        case "released": return "Released"
        case "flag_changed": return "Flag changed"
        case "rebuild_started": return "Rebuild started"
        case "rebuild": return "Rebuild finished"
        case "rebuild_succeeded": return "Rebuild succeeded"
        case "rebuild_failed": return "Rebuild failed"
        case "rebuild_cancelled": return "Rebuild cancelled"
        case "rollback": return "Rolled back"
        case "blast_radius": return "Blast radius"
        case "decision": return "Decision"
        case "evidence": return "Evidence"
        case "action_added": return "Action item added"
        case "action_closed": return "Action item closed"
        case "postmortem": return "Postmortem"
        default: return kind.replacingOccurrences(of: "_", with: " ").capitalized
        }
    }

    /// What happened, in a sentence.
    static func sentence(kind: String, payload p: [String: String]) -> String {
        func count(_ list: String?) -> Int { (list ?? "").split(separator: ",").count }
        func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }
        func tail(_ key: String, _ prefix: String) -> String {
            guard let value = p[key], !value.isEmpty else { return "" }
            return prefix + value
        }
        var words: String
        switch kind {
        case "declared":
            words = "\(p["severity"] ?? "?") incident declared: “\(p["title"] ?? "")”"
            words += tail("collection", " on collection ")
            words += tail("tenant", ", tenant ")
        case "transitioned":
            words = "Moved from \(p["from"] ?? "?") to \(p["to"] ?? "?")"
            words += tail("reason", ": ")
        case "commander_assigned":
            words = "\(p["commander"] ?? "?") is the incident commander"
            words += tail("previous", " (was ") + (p["previous"]?.isEmpty == false ? ")" : "")
        case "quarantined":
            words = "Withheld \(plural(count(p["documents"]), "document")) from every search"
            let already = Int(p["already_quarantined"] ?? "0") ?? 0
            if already > 0 { words += " (\(already) already withheld)" }
            words += tail("reason", ": ")
        case "released":
            words = "Served \(plural(count(p["documents"]), "document")) again"
            words += tail("reason", ": ")
        case "flag_changed":
            let state = p["enabled"] == "true" ? "on" : "off"
            words = "\(p["flag"] ?? "A flag") turned \(state)"
            let tenant = tail("tenant", " for tenant ")
            words += tenant.isEmpty ? " for the whole collection" : tenant
        case "rebuild_started":
            let tenants = tail("tenants", "")
            words = "Rebuild job \(p["job_id"] ?? "?") started on \(p["collection"] ?? "the collection")"
            words += " (\(tenants.isEmpty ? "every partition" : tenants)); keyword search and an exact scan serve meanwhile"
        case "rollback":
            words = "Rolled back to snapshot \(p["snapshot_id"] ?? "?")"
            if let retired = p["documents_retired"] { words += "; \(retired) documents ingested after it stopped being served" }
        case "blast_radius":
            words = "\(p["requests"] ?? "?") requests from \(p["tenants"] ?? "?") tenants were served the \(p["documents"] ?? "?") quarantined documents"
        case "decision":
            words = "Decided: \(p["what"] ?? "?")"
            words += tail("why", ", because ")
        case "evidence":
            words = "Evidence (\(p["kind"] ?? "?")): \(p["summary"] ?? "")"
            words += tail("location", " at ")
        case "action_added":
            words = "Action item: \(p["title"] ?? "?")"
            words += tail("owner", ", owner ")
            words += tail("due", ", due ")
        case "action_closed":
            words = "Action item \(p["number"] ?? "") closed"
            words += tail("verification_evidence", " with evidence: ")
        case "postmortem":
            words = "Postmortem written"
            words += tail("summary", ": ")
        case "rebuild_succeeded", "rebuild_failed", "rebuild_cancelled":
            let state = kind.dropFirst("rebuild_".count)
            words = "Rebuild job \(p["job_id"] ?? "?") \(state)"
            var details = p
            details["job_id"] = nil
            if !details.isEmpty { words += "; " + fallback(details) }
        default:
            return fallback(p)
        }
        return words + "."
    }

    static func fallback(_ payload: [String: String]) -> String {
        payload.isEmpty ? "No details." : payload.keys.sorted().map { "\($0.replacingOccurrences(of: "_", with: " ")): \(payload[$0] ?? "")" }
            .joined(separator: "; ")
    }
}
