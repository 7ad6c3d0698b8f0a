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
    static func sentence(_ event: IncidentEvent) -> String {
        sentence(kind: event.kind, version: event.payloadVersion, payload: event.payload)
    }

    /// What an event of `kind` with this payload says, in a sentence; the payload's fields
    /// as "key: value" pairs when it does not read as the kind's typed payload.
    static func sentence(kind: EventKind, version: Int = EventPayloadVersion.current, payload: PayloadFields) -> String {
        func read<P: EventPayload>(_ type: P.Type) -> P? {
            try? EventPayloadUpgrade.decode(type, kind: kind, version: version, fields: payload)
        }
        let words: String?
        switch kind {
        case .declared: words = read(Declared.self).map(declared)
        case .transitioned: words = read(Transitioned.self).map { "Moved from \($0.from.rawValue) to \($0.to.rawValue)" + tail(": ", $0.reason) }
        case .commanderAssigned:
            words = read(CommanderAssigned.self).map { "\($0.commander) is the incident commander" + tail(" (was ", $0.previous, ")") }
        case .quarantined: words = read(Quarantined.self).map(quarantined)
        case .released:
            words = read(Released.self).map { "Served \(documents($0.documents)) again" + tail(": ", $0.reason) }
        case .flagChanged:
            words = read(FlagChanged.self).map {
                "\($0.flag) turned \($0.enabled ? "on" : "off")" + ($0.tenant.isEmpty ? " for the whole collection" : " for tenant \($0.tenant)")
            }
        case .rebuildStarted:
            words = read(RebuildStarted.self).map {
                "Rebuild job \($0.jobID) started on \($0.collection) (\($0.tenants.isEmpty ? "every partition" : $0.tenants.joined(separator: ", ")));"
                    + " keyword search and an exact scan serve meanwhile"
            }
        case .rebuildSucceeded, .rebuildFailed, .rebuildCancelled: words = read(RebuildEnded.self).map(rebuildEnded)
        case .rollback:
            words = read(RolledBack.self).map {
                "Rolled back to snapshot \($0.snapshotID); \(plural($0.documentsRetired, "document")) ingested after it stopped being served"
            }
        case .blastRadius:
            words = read(BlastRadiusMeasured.self).map {
                "\(plural($0.requests, "request")) from \(plural($0.tenants, "tenant")) were served the \(plural($0.documents, "quarantined document"))"
            }
        case .decision: words = read(DecisionRecorded.self).map { "Decided: \($0.what)" + tail(", because ", $0.why) }
        case .evidence:
            words = read(EvidenceRecorded.self).map { "Evidence (\($0.evidenceKind)): \($0.summary)" + tail(" at ", $0.location) }
        case .actionAdded:
            words = read(ActionAdded.self).map { "Action item \($0.number): \($0.title)" + tail(", owner ", $0.owner) + tail(", due ", $0.due) }
        case .actionClosed:
            words = read(ActionClosed.self).map { "Action item \($0.number) closed" + tail(" with evidence: ", $0.verificationEvidence) }
        case .postmortem: words = read(PostmortemRecorded.self).map { "Postmortem written" + tail(": ", $0.summary) }
        case .unlisted: words = nil
        }
        return words.map { $0 + "." } ?? fallback(payload)
    }

    private static func declared(_ p: Declared) -> String {
        "\(p.severity.rawValue) incident declared: “\(p.title)”" + tail(" on collection ", p.collection) + tail(", tenant ", p.tenant)
    }

    private static func quarantined(_ p: Quarantined) -> String {
        "Withheld \(documents(p.documents)) from every search"
            + (p.alreadyQuarantined > 0 ? " (\(p.alreadyQuarantined) already withheld)" : "") + tail(": ", p.reason)
    }

    private static func rebuildEnded(_ p: RebuildEnded) -> String {
        let checks = p.validation.sorted { $0.key < $1.key }.map { tenant, checks in
            "\(tenant): " + checks.sorted { $0.key < $1.key }.map { "\($0.key.replacingOccurrences(of: "_", with: " ")) \($0.value)" }
                .joined(separator: ", ")
        }
        return "Rebuild job \(p.jobID) \(p.state.rawValue)" + tail(": ", p.error) + (checks.isEmpty ? "" : "; " + checks.joined(separator: "; "))
    }

    /// Documents named by external id (the first few), or counted when there are many.
    static func documents(_ references: [DocumentReference]) -> String {
        let named = references.compactMap(\.externalID)
        guard !named.isEmpty, named.count == references.count else { return plural(references.count, "document") }
        let shown = named.prefix(documentsNamedMax).joined(separator: ", ")
        return plural(references.count, "document") + " (\(shown)\(named.count > documentsNamedMax ? ", …" : ""))"
    }

    static let documentsNamedMax = 5

    private static func plural(_ n: Int, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }

    private static func tail(_ prefix: String, _ value: String?, _ suffix: String = "") -> String {
        guard let value, !value.isEmpty else { return "" }
        return prefix + value + suffix
    }

    /// The trace is shown beside the sentence, not in it.
    static func withoutTrace(_ payload: PayloadFields) -> PayloadFields {
        payload.filter { $0.key != TraceContext.traceIDKey && $0.key != TraceContext.spanIDKey }
    }

    static func fallback(_ all: PayloadFields) -> String {
        let payload = withoutTrace(all)
        return payload.isEmpty ? "No details." : payload.keys.sorted().map { "\($0.replacingOccurrences(of: "_", with: " ")): \(payload[$0]!)" }
            .joined(separator: "; ")
    }
}
