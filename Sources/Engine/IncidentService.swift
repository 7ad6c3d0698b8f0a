import Foundation
import HubScan
import Incidents
import Store

/// The incident rules, in one place. The HTTP routes, the console and the CLI's
/// direct-database commands all go through these, so the same rules hold on every path: who
/// may do what is the caller's business (roles), what may happen to an incident is decided here.
///
/// The resolution gate reads only the database, so it answers the same on every replica and
/// with no service running: an incident on a collection may not be marked resolved while a
/// rebuild of that collection is open, or while a document its newest scan flagged at or
/// above the threshold is still served (live, not quarantined).
public enum IncidentService {
    /// A snapshot taken as an incident's forensic evidence.
    public struct ForensicSnapshot: Sendable, Equatable {
        public static let evidenceKind = "forensic_snapshot"
        public let id: String
        public let rootHash: String
        public let documents: Int

        public init(id: String, rootHash: String, documents: Int) {
            self.id = id
            self.rootHash = rootHash
            self.documents = documents
        }
    }

    /// The runbooks' first rule, snapshot before you mutate: a SEV-0 or SEV-1 incident on a
    /// collection is declared with a forensic snapshot of what that collection served, taken
    /// first (`LiveCollections.declareIncident`). It is recorded as evidence (its root hash) and
    /// held: retention never retires it while the incident is open.
    public static func needsForensicSnapshot(_ severity: Severity, collection: String?) -> Bool {
        collection != nil && severity <= .sev1
    }

    /// Declares an incident; with `forensic`, holds that snapshot as its evidence in the same
    /// transaction. A SEV-0/1 incident on a collection without one is refused
    /// (`forensic_snapshot_required`): only a running service can snapshot what it serves.
    /// Automatic containment, which must not wait on a failing snapshot store, passes
    /// `forensicFailure` instead: the incident is declared and the timeline records the
    /// decision to contain without the snapshot, and why.
    public static func declare(title: String, severity: Severity, taxonomyClass: TaxonomyClass, reporter: String,
                               tenant: String? = nil, collection: String? = nil, traceparent: String? = nil,
                               snapshotRootHash: String? = nil, forensic: ForensicSnapshot? = nil, forensicFailure: String? = nil,
                               on connection: Connection) throws -> (Incident, Timeline) {
        if needsForensicSnapshot(severity, collection: collection) && forensic == nil && forensicFailure == nil {
            throw EngineError(.forensicSnapshotRequired, """
                a \(severity.rawValue) incident on collection \(collection ?? "") starts with a forensic snapshot of what it \
                serves; declare it through the running service (--url), or without the collection
                """)
        }
        return try connection.transaction { c in
            let (incident, timeline) = try IncidentRecords.declare(
                title: title, severity: severity, taxonomyClass: taxonomyClass, reporter: reporter, detectedAt: Date(),
                tenant: tenant, collection: collection, traceparent: traceparent, snapshotRootHash: snapshotRootHash, on: c)
            if let forensicFailure, forensic == nil, needsForensicSnapshot(severity, collection: collection) {
                let decision = Decision(who: reporter, what: "contain without a forensic snapshot",
                                        why: "the snapshot of the served state failed: \(forensicFailure.prefix(500))",
                                        optionsNotTaken: ["wait for the snapshot store before containing"])
                return (incident, try IncidentRecords.record(incident.id, on: c) { try $0.record(decision) })
            }
            guard let forensic else { return (incident, timeline) }
            try SnapshotRecords.holdAsForensicEvidence(forensic.id, incidentID: incident.id, on: c)
            let evidence = Evidence(kind: ForensicSnapshot.evidenceKind, sha256: forensic.rootHash, location: "snapshot \(forensic.id)",
                                    summary: "the served state of \(collection ?? "") when the incident was declared (\(forensic.documents) documents)")
            return (incident, try IncidentRecords.record(incident.id, on: c) { try $0.record(evidence, actor: reporter) })
        }
    }

    /// Moves an incident; `resolved` only when `resolutionBlocker` finds nothing (else
    /// `incident_not_resolvable`, naming what blocks it).
    public static func transition(_ id: String, to status: IncidentStatus, reason: String, actor: String,
                                  on connection: Connection) throws -> Incident {
        // The check and the move in one transaction, the incident's row locked first: two
        // commanders resolving at once are serialised, and each sees the other's outcome.
        try connection.transaction { c in
            if status == .resolved {
                try IncidentRecords.lock(id, on: c)
                let incident = try IncidentRecords.loadIncident(id, on: c)
                if let blocker = try resolutionBlocker(for: incident, on: c) {
                    throw EngineError(.incidentNotResolvable, "\(id) cannot be resolved yet: \(blocker)")
                }
            }
            return try IncidentRecords.transition(id, to: status, reason: reason, actor: actor, on: c)
        }
    }

    public static func assignCommander(_ id: String, commander: String, actor: String, on connection: Connection) throws -> Incident {
        try IncidentRecords.assignCommander(id, commander: commander, actor: actor, on: connection)
    }

    public static func decide(_ id: String, _ decision: Decision, on connection: Connection) throws -> Timeline {
        try IncidentRecords.record(id, on: connection) { try $0.record(decision) }
    }

    public static func addEvidence(_ id: String, _ evidence: Evidence, actor: String, on connection: Connection) throws -> Timeline {
        try IncidentRecords.record(id, on: connection) { try $0.record(evidence, actor: actor) }
    }

    public static func addAction(_ id: String, title: String, owner: String, due: String, verification: String, actor: String,
                                 on connection: Connection) throws -> Timeline {
        try IncidentRecords.record(id, on: connection) {
            _ = try $0.addAction(title: title, owner: owner, due: due, verification: verification, actor: actor)
        }
    }

    /// Closes action item `number` (1-based); closing needs the evidence that it was verified.
    public static func closeAction(_ id: String, number: Int, verificationEvidence: String, actor: String,
                                   on connection: Connection) throws -> Timeline {
        try IncidentRecords.record(id, on: connection) {
            try $0.closeAction(number, verificationEvidence: verificationEvidence, actor: actor)
        }
    }

    public static func recordPostmortem(_ id: String, _ postmortem: Postmortem, actor: String, on connection: Connection) throws -> Timeline {
        try IncidentRecords.record(id, on: connection) { _ = try $0.record(postmortem, actor: actor) }
    }

    // MARK: The resolution gate

    /// Why `incident` may not be marked resolved yet, or nil: the status follows reality.
    public static func resolutionBlocker(for incident: Incident, on connection: Connection) throws -> String? {
        guard let name = incident.collection,
              let collection = try CollectionRecords.all(on: connection).first(where: { $0.name == name }) else { return nil }
        let rebuilding = try JobRecords.open(on: connection).filter { $0.collectionID == collection.id && $0.kind == "rebuild" }
        if !rebuilding.isEmpty {
            let tenants = rebuilding.map { $0.tenant ?? "every tenant" }.joined(separator: ", ")
            return "collection \(name) has rebuild job(s) \(rebuilding.map { String($0.id) }.joined(separator: ", ")) open (\(tenants)): "
                + "degraded answers until each swap, and the rebuild's findings are not on the incident yet"
        }
        guard let stored = try ScanReportRecords.latest(collectionID: collection.id, on: connection) else { return nil }
        let flagged = try stored.labelled().documentsAtThreshold
        guard !flagged.isEmpty else { return nil }
        let served = try DocumentRecords.served(documents: flagged, collectionID: collection.id, on: connection)
        guard served.isEmpty else {
            return "scan \(stored.id) flagged \(served.count) document(s) of \(name) that are still served: \(served.prefix(10).joined(separator: ", "))"
        }
        return nil
    }
}
