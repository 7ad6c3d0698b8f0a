import Crypto
import Foundation
import Incidents
import Store

/// What a quarantine or release did.
public struct QuarantineOutcome: Sendable, Equatable {
    public let incidentID: String
    /// External ids whose state changed.
    public let changed: [String]
    /// External ids that were already in the requested state.
    public let unchanged: [String]
}

extension LiveCollection {
    public static let quarantineIDsMax = 1_000
    public static let reasonBytesMax = 2_000

    /// Withholds documents on every search path, then records it.
    ///
    /// Order matters: the allow-filter bits are cleared first (from that moment no search
    /// returns the documents), then the evidence is read from the record, the incident is
    /// resolved (or declared), and one PostgreSQL transaction writes the entries, the incident
    /// event with the evidence digest and the NOTIFY. If any step after the clearing fails, the
    /// bits are restored and nothing was recorded: the service fails closed for the moments
    /// in between. `activated` reports when the quarantine became effective (for the
    /// activation-latency metric).
    func quarantine(externalIDs: [String], scope: String?, reason: String, incident: IncidentReference,
                    scores: [String: Double], actor: String, activated: () -> Void = {},
                    on connection: Connection) throws(EngineError) -> QuarantineOutcome {
        let entries = try resolve(externalIDs, scope: scope, reason: reason)
        let pending = "pending"
        let fresh = state.writing {
            entries.filter { quarantined[$0.rowID] == nil }.map { entry in
                applyQuarantine(rowID: entry.rowID, incidentID: pending)
                return entry
            }
        }
        activated()
        let incidentID: String
        do {
            let evidence = try captureEvidence(entries, scores: scores, on: connection)
            incidentID = try incident.resolve(collection: configuration.name, tenant: scope, actor: actor, on: connection)
            try EngineFaults.check(.quarantineStore)
            _ = try QuarantineRecords.quarantine(
                entries.map(\.rowID), collectionID: configuration.id, incidentID: incidentID, reason: reason,
                evidence: evidence.perDocument, evidencePayload: evidence.payload, actor: actor, on: connection)
        } catch {
            state.writing { for entry in fresh { applyRelease(rowID: entry.rowID) } }
            throw Self.mapped(error)
        }
        state.writing { for entry in fresh { quarantined[entry.rowID] = incidentID } }
        let freshIDs = Set(fresh.map(\.rowID))
        return QuarantineOutcome(incidentID: incidentID, changed: fresh.map(\.externalID),
                                 unchanged: entries.filter { !freshIDs.contains($0.rowID) }.map(\.externalID))
    }

    /// Readmits documents: recorded first, readmitted after the commit (fail closed: a
    /// failed release leaves the documents withheld).
    func release(externalIDs: [String], scope: String?, reason: String, incident: IncidentReference, actor: String,
                 on connection: Connection) throws(EngineError) -> QuarantineOutcome {
        let entries = try resolve(externalIDs, scope: scope, reason: reason)
        let incidentID = try incident.resolve(collection: configuration.name, tenant: scope, actor: actor, on: connection)
        let released: [Int64]
        do {
            released = try QuarantineRecords.release(entries.map(\.rowID), collectionID: configuration.id,
                                                     incidentID: incidentID, reason: reason, actor: actor, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        let releasedSet = Set(released)
        state.writing { for rowID in released { applyRelease(rowID: rowID) } }
        return QuarantineOutcome(incidentID: incidentID,
                                 changed: entries.filter { releasedSet.contains($0.rowID) }.map(\.externalID),
                                 unchanged: entries.filter { !releasedSet.contains($0.rowID) }.map(\.externalID))
    }

    /// Applies a change another replica made (from a NOTIFY). Idempotent.
    func applyRemote(quarantine: Bool, rowIDs: [Int64], incidentID: String) {
        state.writing {
            for rowID in rowIDs {
                if quarantine { if quarantined[rowID] == nil { applyQuarantine(rowID: rowID, incidentID: incidentID) } }
                else { applyRelease(rowID: rowID) }
            }
        }
    }

    private func resolve(_ externalIDs: [String], scope: String?, reason: String) throws(EngineError) -> [DocumentEntry] {
        guard (1...Self.quarantineIDsMax).contains(externalIDs.count) else {
            throw EngineError(.invalidInput, "give 1...\(Self.quarantineIDsMax) ids, got \(externalIDs.count)")
        }
        guard !reason.isEmpty, reason.utf8.count <= Self.reasonBytesMax else {
            throw EngineError(.invalidInput, "a reason of 1...\(Self.reasonBytesMax) bytes is required")
        }
        var seen = Set<String>()
        var entries: [DocumentEntry] = []
        for id in externalIDs where seen.insert(id).inserted {
            guard let entry = entry(externalID: id, scope: scope) else {
                throw EngineError(.unknownDocument, "no document \"\(id.prefix(128))\" in \(configuration.name)")
            }
            entries.append(entry)
        }
        return entries
    }

    /// Per document: its text, the SHA-256 of its text and of its embedding (little-endian
    /// float32, as in a .npy), and any scores the caller supplied. The incident event carries
    /// the SHA-256 over all of it, so the timeline's hash chain pins the evidence.
    func captureEvidence(_ entries: [DocumentEntry], scores: [String: Double],
                                 on connection: Connection) throws(EngineError) -> (perDocument: [Int64: String], payload: [String: String]) {
        let rows: [(rowID: Int64, record: DocumentRecord)]
        do {
            rows = try DocumentRecords.load(rowIDs: entries.map(\.rowID), collectionID: configuration.id, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        var perDocument: [Int64: String] = [:]
        var digest = SHA256()
        for (rowID, record) in rows {
            var object: [String: Any] = [
                "external_id": record.externalID, "tenant": record.tenant, "text": record.text,
                "text_sha256": Self.hex(SHA256.hash(data: Data(record.text.utf8))),
                "embedding_sha256": Self.hex(record.embedding.withUnsafeBytes { SHA256.hash(data: $0) }),
            ]
            if let score = scores[record.externalID] { object["score"] = score }
            let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            perDocument[rowID] = String(decoding: json, as: UTF8.self)
            digest.update(data: json)
        }
        return (perDocument, ["evidence_sha256": Self.hex(digest.finalize()), "evidence_documents": String(rows.count)])
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    static func mapped(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError: return error
        case let error as StoreError where error.code == .unknownReference: return EngineError(.unknownIncident, error.message)
        case let error as StoreError where error.code == .invalidInput: return EngineError(.invalidInput, error.message)
        default: return EngineError(.storeFailed, "\(error)")
        }
    }
}
