import Incidents

/// A feature flag's state for a collection (and optionally one tenant of it).
public struct FlagRecord: Sendable, Equatable {
    public var name: String
    /// Empty for the whole collection.
    public var tenant: String
    public var enabled: Bool
    public var incidentID: String?
    public var setBy: String
    public var setAt: String
}

/// FF_INDEX_FREEZE and FF_TENANT_BLOCK per collection. A change is one transaction with an
/// event on the incident that justified it.
public enum FlagRecords {
    public static let names: Set<String> = ["FF_INDEX_FREEZE", "FF_TENANT_BLOCK"]

    /// Sets a flag and records `flag_changed` on the incident.
    @discardableResult
    public static func set(_ name: String, tenant: String, enabled: Bool, collectionID: Int64, incidentID: String,
                           actor: String, on connection: Connection) throws -> FlagRecord {
        guard names.contains(name) else { throw StoreError(.invalidInput, "unknown flag \(name)") }
        return try connection.transaction { c in
            if !tenant.isEmpty { try CollectionRecords.ensureTenants([tenant], on: c) }
            let row = try c.query("""
                INSERT INTO flags (collection_id, name, tenant, enabled, incident_id, set_by) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (collection_id, name, tenant)
                DO UPDATE SET enabled = EXCLUDED.enabled, incident_id = EXCLUDED.incident_id, set_by = EXCLUDED.set_by,
                              set_at = now()
                RETURNING to_char(set_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS set_at
                """, [.integer(collectionID), .text(name), .text(tenant), .boolean(enabled), .text(incidentID), .text(actor)])[0]
            try IncidentRecords.appendEvent(FlagChanged(collectionID: collectionID, flag: name, tenant: tenant, enabled: enabled),
                                            to: incidentID, actor: actor, on: c)
            return FlagRecord(name: name, tenant: tenant, enabled: enabled, incidentID: incidentID, setBy: actor,
                              setAt: try row.string("set_at"))
        }
    }

    /// Every flag row of a collection.
    public static func all(collectionID: Int64, on connection: Connection) throws -> [FlagRecord] {
        try connection.query("""
            SELECT name, tenant, enabled, incident_id, set_by,
                   to_char(set_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS set_at
            FROM flags WHERE collection_id = $1 ORDER BY name, tenant
            """, [.integer(collectionID)]).map { row in
            FlagRecord(name: try row.string("name"), tenant: try row.string("tenant"), enabled: try row.boolean("enabled"),
                       incidentID: try row.optionalString("incident_id"), setBy: try row.string("set_by"),
                       setAt: try row.string("set_at"))
        }
    }
}
