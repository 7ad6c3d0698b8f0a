/// A background job as stored.
public struct JobRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var collectionID: Int64
    public var tenant: String?
    public var incidentID: String
    public var state: String
    public var progress: Double
    public var error: String?
    public var createdAt: String
    /// Seconds since it started, when it has.
    public var runningSeconds: Double?
}

/// Jobs (rebuilds): created queued, moved to running, finished as succeeded, failed or
/// cancelled. A restart marks the jobs it interrupted failed.
public enum JobRecords {
    public static let finishedStates: Set<String> = ["succeeded", "failed", "cancelled"]

    public static func create(kind: String, collectionID: Int64, tenant: String?, incidentID: String,
                              on connection: Connection) throws -> Int64 {
        try connection.query("""
            INSERT INTO jobs (kind, collection_id, tenant, incident_id, state) VALUES ($1, $2, $3, $4, 'queued') RETURNING id
            """, [.text(kind), .integer(collectionID), tenant.map(SQLValue.text) ?? .null, .text(incidentID)])[0].integer("id")
    }

    public static func start(_ id: Int64, on connection: Connection) throws {
        try connection.query("UPDATE jobs SET state = 'running', started_at = now() WHERE id = $1 AND state = 'queued'",
                             [.integer(id)])
    }

    public static func progress(_ id: Int64, _ fraction: Double, on connection: Connection) throws {
        try connection.query("UPDATE jobs SET progress = $2 WHERE id = $1 AND state = 'running'",
                             [.integer(id), .real(min(1, max(0, fraction)))])
    }

    /// Finishes a job that is still open; returns false when it had already finished.
    @discardableResult
    public static func finish(_ id: Int64, state: String, error: String? = nil, on connection: Connection) throws -> Bool {
        guard finishedStates.contains(state) else { throw StoreError(.invalidInput, "\(state) is not a finished state") }
        return !(try connection.query("""
            UPDATE jobs SET state = $2, error = $3, finished_at = now(),
                            progress = CASE WHEN $2 = 'succeeded' THEN 1 ELSE progress END
            WHERE id = $1 AND state IN ('queued', 'running') RETURNING id
            """, [.integer(id), .text(state), error.map(SQLValue.text) ?? .null]).isEmpty)
    }

    public static func load(_ id: Int64, on connection: Connection) throws -> JobRecord? {
        guard let row = try connection.query("""
            SELECT id, kind, collection_id, tenant, incident_id, state, progress, error,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
                   EXTRACT(EPOCH FROM (coalesce(finished_at, now()) - started_at))::float8 AS running_seconds
            FROM jobs WHERE id = $1
            """, [.integer(id)]).first else { return nil }
        return JobRecord(id: try row.integer("id"), kind: try row.string("kind"), collectionID: try row.integer("collection_id"),
                         tenant: try row.optionalString("tenant"), incidentID: try row.string("incident_id"),
                         state: try row.string("state"), progress: try row.real("progress"),
                         error: try row.optionalString("error"), createdAt: try row.string("created_at"),
                         runningSeconds: try row.isNull("running_seconds") ? nil : try row.real("running_seconds"))
    }

    /// Marks every open job failed: called at start-up, when no job of a previous process can
    /// still be running. Returns their ids.
    public static func failInterrupted(on connection: Connection) throws -> [Int64] {
        try connection.query("""
            UPDATE jobs SET state = 'failed', error = 'interrupted by a restart; the previous index kept serving',
                            finished_at = now()
            WHERE state IN ('queued', 'running') RETURNING id
            """).map { try $0.integer("id") }
    }
}
