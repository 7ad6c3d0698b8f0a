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
    public static func declare(title: String, severity: Severity, taxonomyClass: TaxonomyClass, reporter: String,
                               tenant: String? = nil, collection: String? = nil, traceparent: String? = nil,
                               on connection: Connection) throws -> (Incident, Timeline) {
        try IncidentRecords.declare(title: title, severity: severity, taxonomyClass: taxonomyClass, reporter: reporter,
                                    detectedAt: Date(), tenant: tenant, collection: collection, traceparent: traceparent,
                                    on: connection)
    }

    /// Moves an incident; `resolved` only when `resolutionBlocker` finds nothing (else
    /// `incident_not_resolvable`, naming what blocks it).
    public static func transition(_ id: String, to status: IncidentStatus, reason: String, actor: String,
                                  on connection: Connection) throws -> Incident {
        if status == .resolved {
            let incident = try IncidentRecords.loadIncident(id, on: connection)
            if let blocker = try resolutionBlocker(for: incident, on: connection) {
                throw EngineError(.incidentNotResolvable, "\(id) cannot be resolved yet: \(blocker)")
            }
        }
        return try IncidentRecords.transition(id, to: status, reason: reason, actor: actor, on: connection)
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
            return "collection \(name) still serves degraded answers: rebuild job(s) \(rebuilding.map { String($0.id) }.joined(separator: ", ")) open (\(tenants))"
        }
        guard let stored = try ScanReportRecords.latest(collectionID: collection.id, on: connection) else { return nil }
        let flagged = try stored.labelled().idsAtThreshold
        guard !flagged.isEmpty else { return nil }
        let served = try DocumentRecords.served(externalIDs: flagged, collectionID: collection.id, on: connection)
        guard served.isEmpty else {
            return "scan \(stored.id) flagged \(served.count) document(s) of \(name) that are still served: \(served.prefix(10).joined(separator: ", "))"
        }
        return nil
    }
}
