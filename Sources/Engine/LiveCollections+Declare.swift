import Foundation
import Incidents
import Store

extension LiveCollections {
    /// Declares an incident the way the runbooks ask: a SEV-0 or SEV-1 incident on a collection
    /// first snapshots what the collection serves (before anything of the incident changes it),
    /// then is declared holding that snapshot as its evidence. A snapshot that cannot be taken
    /// refuses the declaration (retry, or declare SEV-2 and escalate once it can be taken).
    public func declareIncident(title: String, severity: Severity, taxonomyClass: TaxonomyClass, reporter: String,
                                tenant: String?, collection name: String?, traceparent: String?) async throws -> (Incident, Timeline) {
        var forensic: IncidentService.ForensicSnapshot?
        if IncidentService.needsForensicSnapshot(severity, collection: name), let name {
            forensic = try await forensicSnapshot(of: try named(name), actor: reporter)
        }
        return try await pool.withConnection { [forensic] in
            try IncidentService.declare(title: title, severity: severity, taxonomyClass: taxonomyClass, reporter: reporter,
                                        tenant: tenant, collection: name, traceparent: traceparent, forensic: forensic, on: $0)
        }
    }

    /// A snapshot of what `collection` serves now, to be held as an incident's evidence. It is
    /// taken outside the request's write receipt: publishing a snapshot is not the request's
    /// effect, so it must not mark the Idempotency-Key committed before the incident exists.
    func forensicSnapshot(of collection: LiveCollection, actor: String) async throws -> IncidentService.ForensicSnapshot {
        let summary = try await WriteReceipt.$current.withValue(nil) { try await snapshot(collection, actor: actor) }
        return IncidentService.ForensicSnapshot(id: summary.id, rootHash: summary.rootHash, documents: summary.documents)
    }
}
