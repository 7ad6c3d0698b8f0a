/// A collection's scan schedule as stored.
public struct ScheduleRecord: Sendable, Equatable {
    public var collectionID: Int64
    public var everySeconds: Int
    /// "alert" or "auto-contain".
    public var policy: String
    /// Scan options as a JSON object (sample, sample_size, k, threshold).
    public var optionsJSON: String
    public var enabled: Bool

    public init(collectionID: Int64, everySeconds: Int, policy: String, optionsJSON: String, enabled: Bool) {
        self.collectionID = collectionID
        self.everySeconds = everySeconds
        self.policy = policy
        self.optionsJSON = optionsJSON
        self.enabled = enabled
    }
}

/// Scan schedules: one per collection, replaced as a whole. Each period's run is claimed by
/// one replica (`claimDueRun`).
public enum ScheduleRecords {
    public static let everySecondsRange = 10...604_800

    public static func put(_ record: ScheduleRecord, actor: String, on connection: Connection) throws {
        try connection.query("""
            INSERT INTO scan_schedules (collection_id, every_seconds, policy, options, enabled, set_by, next_run_at)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6, now() + make_interval(secs => $2::integer))
            ON CONFLICT (collection_id) DO UPDATE SET every_seconds = EXCLUDED.every_seconds, policy = EXCLUDED.policy,
                options = EXCLUDED.options, enabled = EXCLUDED.enabled, set_by = EXCLUDED.set_by, set_at = now(),
                next_run_at = EXCLUDED.next_run_at
            """, [.integer(record.collectionID), .integer(Int64(record.everySeconds)), .text(record.policy),
                  .text(record.optionsJSON), .boolean(record.enabled), .text(actor)])
    }

    /// Claims the collection's due run for the caller: true for exactly one of the replicas
    /// that ask once `next_run_at` has passed (it moves one period on in the same statement).
    public static func claimDueRun(collectionID: Int64, on connection: Connection) throws -> Bool {
        !(try connection.query("""
            UPDATE scan_schedules SET next_run_at = now() + make_interval(secs => every_seconds)
            WHERE collection_id = $1 AND enabled AND next_run_at <= now()
            RETURNING collection_id
            """, [.integer(collectionID)]).isEmpty)
    }

    public static func all(on connection: Connection) throws -> [ScheduleRecord] {
        try connection.query("""
            SELECT collection_id, every_seconds, policy, options::text AS options, enabled FROM scan_schedules ORDER BY collection_id
            """).map { row in
            ScheduleRecord(collectionID: try row.integer("collection_id"), everySeconds: Int(try row.integer("every_seconds")),
                           policy: try row.string("policy"), optionsJSON: try row.string("options"),
                           enabled: try row.boolean("enabled"))
        }
    }
}
