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

/// Jobs (rebuilds): created queued by the replica that runs them (`owner`), moved to running,
/// finished as succeeded, failed or cancelled. A running job heart-beats (`progress`,
/// `heartbeat`); one silent for `orphanSecondsMax` is failed by any replica (`failOrphaned`),
/// and a replica's start fails the jobs its previous process left open (`failInterrupted`).
public enum JobRecords {
    public static let finishedStates: Set<String> = ["succeeded", "failed", "cancelled"]
    /// A job whose heartbeat is this old is orphaned: the replica running it died.
    public static let orphanSecondsMax = 300

    public static func create(kind: String, collectionID: Int64, tenant: String?, incidentID: String, owner: String,
                              on connection: Connection) throws -> Int64 {
        try connection.query("""
            INSERT INTO jobs (kind, collection_id, tenant, incident_id, state, owner) VALUES ($1, $2, $3, $4, 'queued', $5)
            RETURNING id
            """, [.text(kind), .integer(collectionID), tenant.map(SQLValue.text) ?? .null, .text(incidentID), .text(owner)])[0]
            .integer("id")
    }

    public static func start(_ id: Int64, on connection: Connection) throws {
        try connection.query("""
            UPDATE jobs SET state = 'running', started_at = now(), heartbeat_at = now() WHERE id = $1 AND state = 'queued'
            """, [.integer(id)])
    }

    /// Records progress, which is also a heartbeat.
    public static func progress(_ id: Int64, _ fraction: Double, on connection: Connection) throws {
        try connection.query("UPDATE jobs SET progress = $2, heartbeat_at = now() WHERE id = $1 AND state = 'running'",
                             [.integer(id), .real(min(1, max(0, fraction)))])
    }

    /// Tells the others the job still runs (between steps that report no progress).
    public static func heartbeat(_ id: Int64, on connection: Connection) throws {
        try connection.query("UPDATE jobs SET heartbeat_at = now() WHERE id = $1 AND state IN ('queued', 'running')",
                             [.integer(id)])
    }

    /// The open (queued or running) jobs, oldest first.
    public static func open(on connection: Connection) throws -> [JobRecord] {
        try connection.query("SELECT id FROM jobs WHERE state IN ('queued', 'running') ORDER BY id").compactMap { row in
            try load(try row.integer("id"), on: connection)
        }
    }

    /// Whether the job is still open (queued or running): another replica may have failed it.
    public static func isOpen(_ id: Int64, on connection: Connection) throws -> Bool {
        !(try connection.query("SELECT 1 FROM jobs WHERE id = $1 AND state IN ('queued', 'running')", [.integer(id)]).isEmpty)
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
        try connection.query("""
            SELECT id, kind, collection_id, tenant, incident_id, state, progress, error,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
                   EXTRACT(EPOCH FROM (coalesce(finished_at, now()) - started_at))::float8 AS running_seconds
            FROM jobs WHERE id = $1
            """, [.integer(id)]).first.map(record)
    }

    /// Every state a job can be in (the `jobs.state` check constraint).
    public static let states = ["queued", "running", "succeeded", "failed", "cancelled"]
    /// The most jobs one `list` returns.
    public static let listedMax = 500

    /// Jobs newest first (by id), at most `limit` (1…`listedMax`); nil filters do not filter.
    /// With `tenant`, only that tenant's jobs: a whole-collection job (tenant NULL) is not a
    /// tenant's, as `GET /v1/jobs/{id}` answers 404 for it to a tenant-scoped caller.
    public static func list(collectionID: Int64?, state: String?, tenant: String?, limit: Int,
                            on connection: Connection) throws -> [JobRecord] {
        guard (1...listedMax).contains(limit) else { throw StoreError(.invalidInput, "limit must be 1…\(listedMax)") }
        if let state, !states.contains(state) { throw StoreError(.invalidInput, "\(state) is not a job state") }
        return try connection.query("""
            SELECT id, kind, collection_id, tenant, incident_id, state, progress, error,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
                   EXTRACT(EPOCH FROM (coalesce(finished_at, now()) - started_at))::float8 AS running_seconds
            FROM jobs
            WHERE ($1::bigint IS NULL OR collection_id = $1) AND ($2::text IS NULL OR state = $2)
              AND ($3::text IS NULL OR tenant = $3)
            ORDER BY id DESC
            LIMIT $4::bigint
            """, [collectionID.map(SQLValue.integer) ?? .null, state.map(SQLValue.text) ?? .null,
                  tenant.map(SQLValue.text) ?? .null, .integer(Int64(limit))]).map(record)
    }

    /// A row of the two statements above (the same columns, in the same names).
    private static func record(_ row: Row) throws -> JobRecord {
        JobRecord(id: try row.integer("id"), kind: try row.string("kind"), collectionID: try row.integer("collection_id"),
                  tenant: try row.optionalString("tenant"), incidentID: try row.string("incident_id"),
                  state: try row.string("state"), progress: try row.real("progress"),
                  error: try row.optionalString("error"), createdAt: try row.string("created_at"),
                  runningSeconds: try row.isNull("running_seconds") ? nil : try row.real("running_seconds"))
    }

    /// At a replica's start: fails the open jobs its previous process (same `owner`) left, and
    /// those no replica owns (written before owners existed). Other replicas' jobs go on.
    public static func failInterrupted(owner: String, on connection: Connection) throws -> [Int64] {
        try connection.query("""
            UPDATE jobs SET state = 'failed', error = 'interrupted by a restart of ' || $1 || '; the previous index kept serving',
                            finished_at = now()
            WHERE state IN ('queued', 'running') AND (owner = $1 OR owner IS NULL) RETURNING id
            """, [.text(owner)]).map { try $0.integer("id") }
    }

    /// Fails open jobs whose heartbeat stopped `orphanSecondsMax` ago (their replica died).
    @discardableResult
    public static func failOrphaned(on connection: Connection) throws -> [Int64] {
        try connection.query("""
            UPDATE jobs SET state = 'failed', finished_at = now(),
                            error = 'orphaned: ' || coalesce(owner, 'its replica') || ' stopped heart-beating; the previous index kept serving'
            WHERE state IN ('queued', 'running') AND heartbeat_at <= now() - make_interval(secs => $1) RETURNING id
            """, [.integer(Int64(orphanSecondsMax))]).map { try $0.integer("id") }
    }
}
