import Foundation

/// Reads an event's payload as its typed value, whatever version wrote it. A version-1
/// payload (all text) is first upgraded to version 2's shape, in memory only: the stored
/// bytes, which the hash covers, are never rewritten.
public enum EventPayloadUpgrade {
    public static func decode<P: EventPayload>(_ type: P.Type, kind: EventKind, version: Int,
                                               fields: PayloadFields) throws(IncidentError) -> P {
        guard (EventPayloadVersion.legacyText...EventPayloadVersion.current).contains(version) else {
            throw IncidentError(.invalidInput, "a \(kind) event has payload version \(version); this build reads up to \(EventPayloadVersion.current)")
        }
        let upgraded = version == EventPayloadVersion.legacyText ? fromLegacyText(kind: kind, fields) : fields
        let payload: P
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[.eventKind] = kind
            payload = try decoder.decode(P.self, from: try JSONEncoder().encode(upgraded))
        } catch {
            throw IncidentError(.invalidInput, "a \(kind) event's payload is not a \(P.self): \(error)")
        }
        guard payload.kind == kind else {
            throw IncidentError(.invalidInput, "a \(kind) event's payload was read as a \(payload.kind) payload")
        }
        return payload
    }

    /// Version 1's text fields in version 2's shape: counts and ids as integers, comma- and
    /// newline-separated lists as arrays, the blast radius's embedded JSON parsed, and a
    /// rebuild's `tenant.check` findings as its `validation` map.
    static func fromLegacyText(kind: EventKind, _ fields: PayloadFields) -> PayloadFields {
        var upgraded = fields
        func integers(_ keys: String...) {
            for key in keys { if let text = fields[key]?.string, let value = Int64(text) { upgraded[key] = .integer(value) } }
        }
        func list(_ key: String, separator: Character = ",") {
            guard let text = fields[key]?.string else { return }
            upgraded[key] = .array(text.split(separator: separator).map { .string(String($0)) })
        }
        func rowIDs(_ key: String) {
            guard let text = fields[key]?.string else { return }
            upgraded[key] = .array(text.split(separator: ",").compactMap { Int64($0) }.map { .object(["row_id": .integer($0)]) })
        }
        switch kind {
        case .commanderAssigned:
            if fields["previous"]?.string == "" { upgraded["previous"] = nil }
        case .decision: list("options_not_taken", separator: "\n")
        case .actionAdded, .actionClosed: integers("number")
        case .quarantined:
            integers("collection_id", "already_quarantined", "evidence_documents")
            rowIDs("documents")
        case .released:
            integers("collection_id")
            rowIDs("documents")
        case .flagChanged:
            integers("collection_id")
            if let enabled = fields["enabled"]?.string { upgraded["enabled"] = .bool(enabled == "true") }
        case .blastRadius:
            integers("documents", "requests", "tenants")
            if let text = fields["by_tenant"]?.string {
                upgraded["by_tenant"] = (try? JSONDecoder().decode(PayloadValue.self, from: Data(text.utf8))) ?? .array([])
            }
        case .rollback:
            integers("documents_retired")
            list("tenants")
        case .rebuildStarted:
            integers("job_id")
            list("tenants")
        case .rebuildSucceeded, .rebuildFailed, .rebuildCancelled:
            integers("job_id")
            list("tenants")
            var validation: [String: PayloadValue] = [:]
            for (key, value) in fields {
                guard let dot = key.firstIndex(of: "."), let text = value.string else { continue }
                let tenant = String(key[..<dot]), check = String(key[key.index(after: dot)...])
                var checks: PayloadFields = [:]
                if case .object(let earlier)? = validation[tenant] { checks = earlier }
                checks[check] = Int64(text).map(PayloadValue.integer) ?? Double(text).map(PayloadValue.number) ?? .string(text)
                validation[tenant] = .object(checks)
                upgraded[key] = nil
            }
            upgraded["validation"] = .object(validation)
        default: break
        }
        return upgraded
    }
}

extension PayloadFields {
    /// The fields of a typed payload (its snake_case keys).
    init(encoding payload: some EventPayload) throws {
        self = try JSONDecoder().decode(PayloadFields.self, from: try JSONEncoder().encode(payload))
    }
}
