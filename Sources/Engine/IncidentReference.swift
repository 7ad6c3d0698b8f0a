import Foundation
import Incidents
import Store

/// The incident a containment action is recorded on: one the caller names, or one declared
/// on the spot from the action's reason. No quarantine, release or flag change happens
/// outside an incident.
public enum IncidentReference: Sendable, Equatable {
    case existing(String)
    /// A new incident; its class is what the action responds to (a hub in the index: corpus).
    case declare(title: String, severity: Severity, taxonomyClass: TaxonomyClass = .corpus)
    /// The collection's newest open incident, or a new one declared with this title.
    case openOrDeclare(title: String, severity: Severity, taxonomyClass: TaxonomyClass = .corpus)
    /// For a tenant-scoped caller, who may name only its own tenant's incidents: the newest
    /// open incident of the collection and that tenant, or a new one declared for it.
    case openOfTenantOrDeclare(tenant: String, title: String, severity: Severity)

    /// The open incident's id; declares it when asked to. Runs inside the writer's section.
    func resolve(collection: String, tenant: String?, actor: String, on connection: Connection) throws(EngineError) -> String {
        switch self {
        case .existing(let id):
            let incident: Incident
            do { incident = try IncidentRecords.loadIncident(id, on: connection) } catch let error as StoreError where error.code == .unknownReference {
                throw EngineError(.unknownIncident, "no incident \(id)")
            } catch {
                throw EngineError(.storeFailed, "\(error)")
            }
            guard incident.status.isOpen else {
                throw EngineError(.incidentClosed, "incident \(id) is \(incident.status.rawValue); open a new one")
            }
            return id
        case .openOrDeclare(let title, let severity, let taxonomyClass):
            if let open = try Self.newestOpen(collection: collection, tenant: nil, on: connection) { return open }
            return try IncidentReference.declare(title: title, severity: severity, taxonomyClass: taxonomyClass)
                .resolve(collection: collection, tenant: tenant, actor: actor, on: connection)
        case .openOfTenantOrDeclare(let scope, let title, let severity):
            if let open = try Self.newestOpen(collection: collection, tenant: scope, on: connection) { return open }
            return try IncidentReference.declare(title: title, severity: severity)
                .resolve(collection: collection, tenant: scope, actor: actor, on: connection)
        case .declare(let title, let severity, let taxonomyClass):
            do {
                // Declared inside a write section (the ingest screen's hold on arrival), where no
                // snapshot can be taken: a SEV-0/1 records that decision instead.
                return try IncidentService.declare(
                    title: String(title.prefix(300)), severity: severity, taxonomyClass: taxonomyClass, reporter: actor, tenant: tenant,
                    collection: collection,
                    forensicFailure: "declared inside a write section (documents held on arrival were never served)",
                    on: connection).0.id
            } catch {
                throw EngineError(.storeFailed, "declaring an incident failed: \(error)")
            }
        }
    }

    /// The collection's newest open incident (only `tenant`'s, when given).
    private static func newestOpen(collection: String, tenant: String?, on connection: Connection) throws(EngineError) -> String? {
        do {
            return try connection.query("""
                SELECT id FROM incidents WHERE collection = $1 AND ($2::text IS NULL OR tenant = $2) AND status <> 'closed'
                ORDER BY declared_at DESC, id DESC LIMIT 1
                """, [.text(collection), tenant.map(SQLValue.text) ?? .null]).first?.string("id")
        } catch {
            throw EngineError(.storeFailed, "\(error)")
        }
    }
}
