import Crypto
import Foundation
import Hex
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

    /// The first half of a quarantine, before its transaction starts: the documents are
    /// withheld on every search path at once (from here no search returns them). Returns the
    /// documents named and those newly withheld. Caller holds `writers`.
    func withholdFirst(_ externalIDs: [String], scope: String?, reason: String) throws(EngineError)
        -> (entries: [DocumentEntry], fresh: [DocumentEntry]) {
        let entries = try resolve(externalIDs, scope: scope, reason: reason)
        let fresh = mutate {
            entries.filter { quarantined[$0.rowID] == nil }.map { entry in
                applyQuarantine(rowID: entry.rowID, hold: .recording)
                return entry
            }
        }
        return (entries, fresh)
    }

    /// Undoes `withholdFirst` when the transaction failed: what is still pending is readmitted.
    func readmitPending(_ entries: [DocumentEntry]) {
        mutate {
            for entry in entries where quarantined[entry.rowID] == .recording { applyRelease(rowID: entry.rowID) }
        }
    }

    /// The second half, in the write transaction: the evidence is read from the record, the
    /// incident resolved (or declared), the entries and the incident event written with the
    /// evidence digest, and the change appended. Applying it after the commit names the
    /// incident on the documents already withheld.
    func recordQuarantine(_ entries: [DocumentEntry], scope: String?, reason: String, incident: IncidentReference,
                          scores: [String: Double], actor: String, on connection: Connection) throws(EngineError) -> QuarantineOutcome {
        let added: [Int64], incidentID: String
        do {
            let evidence = try captureEvidence(entries, scores: scores, on: connection)
            incidentID = try incident.resolve(collection: configuration.name, tenant: scope, actor: actor, on: connection)
            try EngineFaults.check(.quarantineStore)
            added = try QuarantineRecords.quarantine(
                entries.map(\.rowID), collectionID: configuration.id, incidentID: incidentID, reason: reason,
                evidence: evidence.perDocument, evidenceDigest: evidence.digest, actor: actor, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        if !added.isEmpty { try append(.documentsQuarantined(rowIDs: added, incidentID: incidentID), on: connection) }
        let addedSet = Set(added)
        return QuarantineOutcome(incidentID: incidentID, changed: entries.filter { addedSet.contains($0.rowID) }.map(\.externalID),
                                 unchanged: entries.filter { !addedSet.contains($0.rowID) }.map(\.externalID))
    }

    /// Readmits documents: recorded first, readmitted when the change is applied after the
    /// commit (fail closed: a failed release leaves the documents withheld).
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
        if !released.isEmpty { try append(.documentsReleased(rowIDs: released), on: connection) }
        let releasedSet = Set(released)
        return QuarantineOutcome(incidentID: incidentID,
                                 changed: entries.filter { releasedSet.contains($0.rowID) }.map(\.externalID),
                                 unchanged: entries.filter { !releasedSet.contains($0.rowID) }.map(\.externalID))
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
            guard let entry = try entry(externalID: id, scope: scope) else {
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
                                 on connection: Connection) throws(EngineError) -> (perDocument: [Int64: String], digest: (sha256: String, documents: Int)) {
        let rows: [(rowID: Int64, record: DocumentRecord)]
        do {
            rows = try DocumentRecords.load(rowIDs: entries.map(\.rowID), collectionID: configuration.id, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        var perDocument: [Int64: String] = [:]
        var digest = SHA256()
        for (rowID, record) in rows {
            let evidence = QuarantineEvidence(
                externalID: record.externalID, tenant: record.tenant, text: record.text,
                textSHA256: SHA256.hash(data: Data(record.text.utf8)).hexEncoded,
                embeddingSHA256: record.embedding.withUnsafeBytes { SHA256.hash(data: $0) }.hexEncoded,
                score: scores[record.externalID])
            guard let json = try? evidence.encoded() else {
                throw EngineError(.invalidInput, "the evidence of \(record.externalID) does not encode (a score that is not finite?)")
            }
            perDocument[rowID] = String(decoding: json, as: UTF8.self)
            digest.update(data: json)
        }
        return (perDocument, (digest.finalize().hexEncoded, rows.count))
    }


    static func mapped(_ error: any Error) -> EngineError {
        switch error {
        case let error as EngineError: return error
        case let error as StoreError where error.code == .unknownReference: return EngineError(.unknownIncident, error.message)
        case let error as StoreError where error.code == .invalidInput: return EngineError(.invalidInput, error.message)
        case let error as StoreError where error.code == .poolExhausted: return EngineError(.busy, error.message)
        default: return EngineError(.storeFailed, "\(error)")
        }
    }
}
