import Snapshots

/// Snapshot records in PostgreSQL: status lifecycle (`SnapshotStatus`), the scan report that
/// cleared a snapshot, and retention that never retires a verified-clean snapshot an open
/// incident refers to (by its root hash).
public enum SnapshotRecords {
    public struct Record: Sendable, Equatable {
        public let id: String
        public let collectionID: Int64
        public let parentID: String?
        public let status: SnapshotStatus
        public let rootHash: String?
        public let scanReportID: Int64?
    }

    /// A snapshot row in `building`, by `builder` (the replica writing it).
    public static func create(id: String, collectionID: Int64, parentID: String?, builder: String? = nil,
                              on connection: Connection) throws {
        guard SnapshotFolder.isValidID(id) else { throw StoreError(.invalidInput, "snapshot id \"\(id)\" is not valid") }
        try connection.query("INSERT INTO snapshots (id, collection_id, parent_id, status, builder) VALUES ($1, $2, $3, 'building', $4)",
                             [.text(id), .integer(collectionID), parentID.map(SQLValue.text) ?? .null, builder.map(SQLValue.text) ?? .null])
    }

    /// A row older than this still `building` with no builder recorded (made before migration
    /// 0017) is abandoned.
    public static let unnamedBuildSecondsMax = 3_600

    /// At a replica's start: the snapshots its previous process was building when it stopped
    /// (killed mid-publish) are retired, never left `building`; their ids are returned.
    public static func retireInterrupted(builder: String, on connection: Connection) throws -> [String] {
        try connection.query("""
            UPDATE snapshots SET status = 'retired'
            WHERE status = 'building'
              AND (builder = $1 OR (builder IS NULL AND created_at < now() - make_interval(secs => $2)))
            RETURNING id
            """, [.text(builder), .integer(Int64(unnamedBuildSecondsMax))]).map { try $0.string("id") }.sorted()
    }

    /// building → published, with the manifest's root hash and JSON.
    public static func markPublished(_ id: String, rootHash: String, manifestJSON: String, changeSeq: Int64? = nil,
                                     on connection: Connection) throws {
        try move(id, to: .published, on: connection) { c in
            try c.query("""
                UPDATE snapshots SET status = 'published', root_hash = $2, manifest = $3::jsonb, change_seq = $4 WHERE id = $1
                """, [.text(id), .text(rootHash), .text(manifestJSON), changeSeq.map(SQLValue.integer) ?? .null])
        }
    }

    /// The newest change-log position a servable snapshot of the collection reflects, by any
    /// replica (auto-snapshots skip a collection another replica has just snapshotted).
    public static func newestChangeSeq(collectionID: Int64, on connection: Connection) throws -> Int64? {
        try connection.query("""
            SELECT max(change_seq) AS seq FROM snapshots WHERE collection_id = $1 AND status IN ('published', 'verified_clean')
            """, [.integer(collectionID)])[0].optionalString("seq").flatMap { Int64($0) }
    }

    /// The snapshots a replica may start a collection from, newest first: published or
    /// verified-clean, with a change-log position, at most `limit`.
    public static func startCandidates(collectionID: Int64, limit: Int = 3, on connection: Connection) throws -> [Record] {
        try connection.query("""
            SELECT id FROM snapshots WHERE collection_id = $1 AND status IN ('published', 'verified_clean')
              AND change_seq IS NOT NULL ORDER BY change_seq DESC, created_at DESC LIMIT $2
            """, [.integer(collectionID), .integer(Int64(limit))]).map { row in try load(try row.string("id"), on: connection) }
    }

    /// The smallest change-log position a retained snapshot of any collection reflects (the
    /// log may be truncated below it), nil when no snapshot has one.
    public static func oldestRetainedChangeSeq(on connection: Connection) throws -> Int64? {
        try connection.query("""
            SELECT min(change_seq) AS seq FROM snapshots WHERE status IN ('published', 'verified_clean')
            """)[0].optionalString("seq").flatMap { Int64($0) }
    }

    /// published → verified_clean, naming the scan report (of the same collection) that cleared it.
    public static func markVerifiedClean(_ id: String, scanReportID: Int64, on connection: Connection) throws {
        try move(id, to: .verifiedClean, on: connection) { c in
            let matches = try c.query("""
                SELECT 1 FROM scan_reports r JOIN snapshots s ON s.collection_id = r.collection_id
                WHERE r.id = $1 AND s.id = $2
                """, [.integer(scanReportID), .text(id)])
            guard !matches.isEmpty else {
                throw StoreError(.unknownReference, "scan report \(scanReportID) does not exist or is of another collection")
            }
            try c.query("UPDATE snapshots SET status = 'verified_clean', scan_report_id = $2 WHERE id = $1",
                        [.text(id), .integer(scanReportID)])
        }
    }

    /// Retires one snapshot; refused (`invalid_input`) for a verified-clean snapshot that an
    /// open incident refers to.
    public static func retire(_ id: String, on connection: Connection) throws {
        try move(id, to: .retired, on: connection) { c in
            let record = try load(id, on: c)
            guard SnapshotStatus.mayRetire(record.status, referencedByOpenIncident: try isProtected(id, on: c),
                                           heldAsForensicEvidence: try isForensicEvidence(id, on: c)) else {
                throw StoreError(.invalidInput, "snapshot \(id) is evidence or the rollback target of an open incident")
            }
            try c.query("UPDATE snapshots SET status = 'retired' WHERE id = $1", [.text(id)])
        }
    }

    /// Keeps the newest `keep` unretired snapshots of a collection and retires the rest,
    /// except protected ones and, with `sparingLastClean`, the newest verified-clean one (the
    /// service's "last-clean" rollback target). Returns the ids retired.
    public static func applyRetention(collectionID: Int64, keep: Int, sparingLastClean: Bool = false,
                                      on connection: Connection) throws -> [String] {
        precondition(keep >= 0, "keep is validated by the caller")
        return try connection.transaction { c in
            let lastCleanID = sparingLastClean ? try lastClean(collectionID: collectionID, on: c)?.id : nil
            let candidates = try c.query("""
                SELECT id FROM snapshots WHERE collection_id = $1 AND status IN ('published', 'verified_clean')
                ORDER BY created_at DESC, id DESC OFFSET $2
                """, [.integer(collectionID), .integer(Int64(keep))]).map { try $0.string("id") }
            var retired: [String] = []
            for id in candidates where id != lastCleanID {
                let record = try load(id, on: c)
                guard SnapshotStatus.mayRetire(record.status, referencedByOpenIncident: try isProtected(id, on: c),
                                               heldAsForensicEvidence: try isForensicEvidence(id, on: c)) else { continue }
                try c.query("UPDATE snapshots SET status = 'retired' WHERE id = $1", [.text(id)])
                retired.append(id)
            }
            return retired
        }
    }

    /// The newest verified-clean snapshot of a collection: "last-clean" for rollback.
    public static func lastClean(collectionID: Int64, on connection: Connection) throws -> Record? {
        guard let id = try connection.query("""
            SELECT id FROM snapshots WHERE collection_id = $1 AND status = 'verified_clean'
            ORDER BY created_at DESC, id DESC LIMIT 1
            """, [.integer(collectionID)]).first?.string("id") else { return nil }
        return try load(id, on: connection)
    }

    public static func load(_ id: String, on connection: Connection) throws -> Record {
        guard let row = try connection.query("""
            SELECT id, collection_id, parent_id, status, root_hash, scan_report_id FROM snapshots WHERE id = $1
            """, [.text(id)]).first else { throw StoreError(.unknownReference, "no snapshot \(id)") }
        guard let status = SnapshotStatus(rawValue: try row.string("status")) else {
            throw StoreError(.decodingFailed, "snapshot \(id) has an unknown status")
        }
        return Record(id: id, collectionID: try row.integer("collection_id"), parentID: try row.optionalString("parent_id"),
                      status: status, rootHash: try row.optionalString("root_hash"),
                      scanReportID: try row.isNull("scan_report_id") ? nil : try row.integer("scan_report_id"))
    }

    /// Whether the snapshot is the forensic evidence of an incident that is still open.
    static func isForensicEvidence(_ id: String, on connection: Connection) throws -> Bool {
        try !connection.query("""
            SELECT 1 FROM snapshots s JOIN incidents i ON i.id = s.forensic_incident_id
            WHERE s.id = $1 AND i.status <> 'closed'
            """, [.text(id)]).isEmpty
    }

    /// Marks a snapshot as the forensic evidence of `incidentID` (kept while it is open).
    public static func holdAsForensicEvidence(_ id: String, incidentID: String, on connection: Connection) throws {
        let held = try connection.query("""
            UPDATE snapshots SET forensic_incident_id = $2 WHERE id = $1 AND forensic_incident_id IS NULL RETURNING id
            """, [.text(id), .text(incidentID)])
        guard !held.isEmpty else { throw StoreError(.invalidInput, "snapshot \(id) does not exist or is already evidence of an incident") }
    }

    /// The forensic snapshot of an incident, if one was taken.
    public static func forensicSnapshot(of incidentID: String, on connection: Connection) throws -> Record? {
        guard let id = try connection.query("SELECT id FROM snapshots WHERE forensic_incident_id = $1", [.text(incidentID)])
            .first?.string("id") else { return nil }
        return try load(id, on: connection)
    }

    /// Verified-clean snapshots referred to by an open incident (same root hash) are protected.
    static func isProtected(_ id: String, on connection: Connection) throws -> Bool {
        try !connection.query("""
            SELECT 1 FROM snapshots s JOIN incidents i ON i.snapshot_root_hash = s.root_hash
            WHERE s.id = $1 AND i.status <> 'closed'
            """, [.text(id)]).isEmpty
    }

    /// Locks the row, checks the lifecycle allows the move, then runs `update`.
    private static func move(_ id: String, to next: SnapshotStatus, on connection: Connection,
                             _ update: (Connection) throws -> Void) throws {
        try connection.transaction { c in
            guard try !c.query("SELECT 1 FROM snapshots WHERE id = $1 FOR UPDATE", [.text(id)]).isEmpty else {
                throw StoreError(.unknownReference, "no snapshot \(id)")
            }
            let current = try load(id, on: c).status
            guard current.allowedNext.contains(next) else {
                throw StoreError(.invalidInput, "snapshot \(id) is \(current.rawValue); it cannot become \(next.rawValue)")
            }
            try update(c)
        }
    }
}

/// HubScan reports as stored; `maxZ` is what "every z below the threshold" is checked on.
public enum ScanReportRecords {
    public static func insert(collectionID: Int64, tenant: String?, reportJSON: String, maxZ: Double,
                              on connection: Connection) throws -> Int64 {
        guard maxZ.isFinite else { throw StoreError(.invalidInput, "max z must be finite") }
        return try connection.query("""
            INSERT INTO scan_reports (collection_id, tenant, report, max_z) VALUES ($1, $2, $3::jsonb, $4) RETURNING id
            """, [.integer(collectionID), tenant.map(SQLValue.text) ?? .null, .text(reportJSON), .real(maxZ)])[0].integer("id")
    }
}

extension ScanReportRecords {
    /// A stored scan report.
    public struct Stored: Sendable, Equatable {
        public let id: Int64
        public let collectionID: Int64
        public let tenant: String?
        public let reportJSON: String
        public let maxZ: Double
        public let createdAt: String
    }

    public static func load(_ id: Int64, on connection: Connection) throws -> Stored? {
        guard let row = try connection.query("""
            SELECT id, collection_id, tenant, report::text AS report, max_z,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
            FROM scan_reports WHERE id = $1
            """, [.integer(id)]).first else { return nil }
        return Stored(id: try row.integer("id"), collectionID: try row.integer("collection_id"),
                      tenant: try row.optionalString("tenant"), reportJSON: try row.string("report"),
                      maxZ: try row.real("max_z"), createdAt: try row.string("created_at"))
    }

    /// Whether a clean scan (every z below its own threshold) covering `tenant` ("" for the
    /// whole collection) was stored after FF_INDEX_FREEZE was last set there: what lifting
    /// the freeze requires. A whole-collection scan covers every tenant.
    public static func cleanScanSinceFreeze(collectionID: Int64, tenant: String, on connection: Connection) throws -> Bool {
        !(try connection.query("""
            SELECT 1 FROM scan_reports s JOIN flags f
              ON f.collection_id = s.collection_id AND f.name = 'FF_INDEX_FREEZE' AND f.tenant = $2
            WHERE s.collection_id = $1 AND s.created_at > f.set_at
              AND (s.tenant IS NULL OR s.tenant = NULLIF($2, '')) AND NOT (s.report ? 'snapshot_id')
              AND s.max_z < (s.report -> 'parameters' ->> 'threshold')::float8
            LIMIT 1
            """, [.integer(collectionID), .text(tenant)]).isEmpty)
    }
}

extension ScanReportRecords {
    /// The newest scan report of what a collection serves, if any. Scans of a snapshot (their
    /// report names `snapshot_id`) are left out here and in `cleanScanSinceFreeze`: they say
    /// whether the snapshot is clean, not whether the served index is.
    public static func latest(collectionID: Int64, on connection: Connection) throws -> Stored? {
        guard let row = try connection.query("""
            SELECT id FROM scan_reports WHERE collection_id = $1 AND NOT (report ? 'snapshot_id')
            ORDER BY created_at DESC, id DESC LIMIT 1
            """, [.integer(collectionID)]).first else { return nil }
        return try load(try row.integer("id"), on: connection)
    }
}

extension ScanReportRecords {
    /// A stored scan as listed: what its row and report say, without the report itself.
    public struct Summary: Sendable, Equatable {
        public let id: Int64
        /// nil: the whole collection was scanned.
        public let tenant: String?
        public let maxZ: Double
        public let threshold: Double
        /// How many documents the report flags (its `flagged` array).
        public let flagged: Int
        /// The snapshot scanned, for a scan of a snapshot rather than of the served index.
        public let snapshotID: String?
        public let createdAt: String
    }

    /// One page of summaries, newest first, and the cursor of the next (nil on the last).
    public struct SummaryPage: Sendable, Equatable {
        public let summaries: [Summary]
        public let nextBefore: Int64?
    }

    public static let pageMax = 200

    /// A collection's scans with an id below `before` (all without it), newest first (ids only
    /// grow), at most `limit` (1…`pageMax`); with `tenant`, only scans of that tenant (a
    /// whole-collection scan is not a tenant's, as `GET /v1/scans/{id}` answers 404 for it).
    /// Keyset paging: `nextBefore` is the page's last id when a further row exists, so passing
    /// it back continues with no row repeated or skipped, whatever is stored meanwhile.
    /// Threshold, flagged count and snapshot are read from the jsonb; the report is not loaded.
    public static func page(collectionID: Int64, tenant: String?, before: Int64?, limit: Int,
                            on connection: Connection) throws -> SummaryPage {
        guard (1...pageMax).contains(limit) else { throw StoreError(.invalidInput, "limit must be 1…\(pageMax)") }
        let rows = try connection.query("""
            SELECT id, tenant, max_z, (report -> 'parameters' ->> 'threshold')::float8 AS threshold,
                   CASE jsonb_typeof(report -> 'flagged') WHEN 'array' THEN jsonb_array_length(report -> 'flagged') ELSE 0 END
                     AS flagged,
                   report ->> 'snapshot_id' AS snapshot_id,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
            FROM scan_reports
            WHERE collection_id = $1 AND ($2::text IS NULL OR tenant = $2) AND ($3::bigint IS NULL OR id < $3)
            ORDER BY id DESC
            LIMIT $4::bigint
            """, [.integer(collectionID), tenant.map(SQLValue.text) ?? .null, before.map(SQLValue.integer) ?? .null,
                  .integer(Int64(limit + 1))])
        let summaries = try rows.prefix(limit).map { row in
            let id = try row.integer("id")
            guard try !row.isNull("threshold") else { throw StoreError(.invalidData, "scan report \(id) names no threshold") }
            return Summary(id: id, tenant: try row.optionalString("tenant"), maxZ: try row.real("max_z"),
                           threshold: try row.real("threshold"),
                           flagged: Int(try row.integer("flagged")), snapshotID: try row.optionalString("snapshot_id"),
                           createdAt: try row.string("created_at"))
        }
        return SummaryPage(summaries: summaries, nextBefore: rows.count > limit ? summaries.last?.id : nil)
    }
}

extension SnapshotRecords {
    /// A snapshot as listed: its record, when it was taken, and how many documents it holds.
    public struct Listed: Sendable, Equatable {
        public let record: Record
        public let createdAt: String
        public let documents: Int?
    }

    public static let listedMax = 1_000

    /// A collection's snapshots, newest first (at most `listedMax`).
    public static func list(collectionID: Int64, on connection: Connection) throws -> [Listed] {
        try connection.query("""
            SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
                   (manifest ->> 'documents')::bigint AS documents
            FROM snapshots WHERE collection_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2
            """, [.integer(collectionID), .integer(Int64(listedMax))]).map { row in
            Listed(record: try load(try row.string("id"), on: connection), createdAt: try row.string("created_at"),
                   documents: try row.isNull("documents") ? nil : Int(try row.integer("documents")))
        }
    }

    /// The newest published (or verified-clean) snapshot of a collection: a new snapshot's parent.
    public static func latestPublishedID(collectionID: Int64, on connection: Connection) throws -> String? {
        try connection.query("""
            SELECT id FROM snapshots WHERE collection_id = $1 AND status IN ('published', 'verified_clean')
            ORDER BY created_at DESC, id DESC LIMIT 1
            """, [.integer(collectionID)]).first?.string("id")
    }
}
