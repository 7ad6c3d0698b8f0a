import Foundation

/// One change to a collection's served state, as the change log stores it. Typed and
/// versioned: `kind` and `version` are columns, the associated values the JSON payload.
/// Documents are named by row id (the stable key every replica shares).
public enum Change: Sendable, Equatable {
    case collectionCreated(name: String)
    /// Documents stored; `held` of them arrived withheld (the ingest screen) under `incidentID`.
    case documentsIngested(rowIDs: [Int64], held: [Int64], incidentID: String?)
    case documentsDeleted(rowIDs: [Int64])
    case documentsQuarantined(rowIDs: [Int64], incidentID: String)
    case documentsReleased(rowIDs: [Int64])
    /// `tenant` is empty for the whole collection.
    case flagSet(flag: String, tenant: String, enabled: Bool)
    /// A rebuilt graph replaced a tenant partition's graph (the served documents are unchanged).
    /// `graphFile` (relative to the snapshot store, with its SHA-256) is the graph as the
    /// rebuilding replica swapped it in, for the others to load; nil when it could not be
    /// written (the others then keep their own graph). Optional fields are additions within
    /// payload version 1: rows written before them decode with nil.
    case partitionRebuilt(tenant: String, jobID: Int64, graphFile: String?, graphSHA256: String?)
    /// A rebuild job began: every replica serves `tenants` in the rebuilding mode (exact vector
    /// scans, ingestion refused) until its `rebuildEnded`.
    case rebuildStarted(tenants: [String], jobID: Int64)
    /// The job is over (`state`: succeeded, failed, cancelled): `tenants` serve normally again.
    case rebuildEnded(tenants: [String], jobID: Int64, state: String)
    /// The partitions of `tenants` were restored from `snapshotID`; `retired` left the served set.
    case rolledBack(snapshotID: String, tenants: [String], retired: [Int64])
    case goldenQueriesReplaced(queries: Int)
    case scanScheduleChanged(policy: String, enabled: Bool)

    /// The version of every payload this build writes; `decode` accepts every version up to it.
    public static let payloadVersion: Int32 = 1

    public var kind: String {
        switch self {
        case .collectionCreated: "collection_created"
        case .documentsIngested: "documents_ingested"
        case .documentsDeleted: "documents_deleted"
        case .documentsQuarantined: "documents_quarantined"
        case .documentsReleased: "documents_released"
        case .flagSet: "flag_set"
        case .partitionRebuilt: "partition_rebuilt"
        case .rebuildStarted: "rebuild_started"
        case .rebuildEnded: "rebuild_ended"
        case .rolledBack: "rolled_back"
        case .goldenQueriesReplaced: "golden_queries_replaced"
        case .scanScheduleChanged: "scan_schedule_changed"
        }
    }
}

/// A change as read back from the log.
public struct ChangeRow: Sendable, Equatable {
    public let seq: Int64
    public let collectionID: Int64
    public let change: Change
    public let origin: String
}

// MARK: - Payloads

extension Change {
    private struct Documents: Codable { var row_ids: [Int64] }
    private struct Ingested: Codable { var row_ids: [Int64]; var held: [Int64]; var incident_id: String? }
    private struct Quarantined: Codable { var row_ids: [Int64]; var incident_id: String }
    private struct Created: Codable { var name: String }
    private struct Flag: Codable { var flag: String; var tenant: String; var enabled: Bool }
    private struct Rebuilt: Codable { var tenant: String; var job_id: Int64; var graph_file: String?; var graph_sha256: String? }
    private struct RebuildStarted: Codable { var tenants: [String]; var job_id: Int64 }
    private struct RebuildEnded: Codable { var tenants: [String]; var job_id: Int64; var state: String }
    private struct RolledBack: Codable { var snapshot_id: String; var tenants: [String]; var retired: [Int64] }
    private struct Golden: Codable { var queries: Int }
    private struct Schedule: Codable { var policy: String; var enabled: Bool }

    /// The payload as JSON (sorted keys: the bytes are stable).
    func payloadJSON() throws(StoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func encode(_ value: some Encodable) throws(StoreError) -> String {
            do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
                throw StoreError(.invalidInput, "change \(kind) cannot be encoded: \(error)")
            }
        }
        switch self {
        case .collectionCreated(let name): return try encode(Created(name: name))
        case .documentsIngested(let rowIDs, let held, let incidentID):
            return try encode(Ingested(row_ids: rowIDs, held: held, incident_id: incidentID))
        case .documentsDeleted(let rowIDs), .documentsReleased(let rowIDs): return try encode(Documents(row_ids: rowIDs))
        case .documentsQuarantined(let rowIDs, let incidentID): return try encode(Quarantined(row_ids: rowIDs, incident_id: incidentID))
        case .flagSet(let flag, let tenant, let enabled): return try encode(Flag(flag: flag, tenant: tenant, enabled: enabled))
        case .partitionRebuilt(let tenant, let jobID, let file, let sha256):
            return try encode(Rebuilt(tenant: tenant, job_id: jobID, graph_file: file, graph_sha256: sha256))
        case .rebuildStarted(let tenants, let jobID): return try encode(RebuildStarted(tenants: tenants, job_id: jobID))
        case .rebuildEnded(let tenants, let jobID, let state):
            return try encode(RebuildEnded(tenants: tenants, job_id: jobID, state: state))
        case .rolledBack(let snapshotID, let tenants, let retired):
            return try encode(RolledBack(snapshot_id: snapshotID, tenants: tenants, retired: retired))
        case .goldenQueriesReplaced(let queries): return try encode(Golden(queries: queries))
        case .scanScheduleChanged(let policy, let enabled): return try encode(Schedule(policy: policy, enabled: enabled))
        }
    }

    /// Decodes a stored row's payload; an unknown kind or a version newer than this build is
    /// `decodingFailed` (the replica stops there rather than skip it).
    static func decode(kind: String, version: Int32, payload: String) throws(StoreError) -> Change {
        guard (1...payloadVersion).contains(version) else {
            throw StoreError(.decodingFailed, "change kind \(kind) has payload version \(version); this build reads up to \(payloadVersion)")
        }
        let data = Data(payload.utf8)
        func decode<T: Decodable>(_ type: T.Type) throws(StoreError) -> T {
            do { return try JSONDecoder().decode(T.self, from: data) } catch {
                throw StoreError(.decodingFailed, "change kind \(kind): payload does not decode: \(error)")
            }
        }
        switch kind {
        case "collection_created": return .collectionCreated(name: try decode(Created.self).name)
        case "documents_ingested":
            let value = try decode(Ingested.self)
            return .documentsIngested(rowIDs: value.row_ids, held: value.held, incidentID: value.incident_id)
        case "documents_deleted": return .documentsDeleted(rowIDs: try decode(Documents.self).row_ids)
        case "documents_quarantined":
            let value = try decode(Quarantined.self)
            return .documentsQuarantined(rowIDs: value.row_ids, incidentID: value.incident_id)
        case "documents_released": return .documentsReleased(rowIDs: try decode(Documents.self).row_ids)
        case "flag_set":
            let value = try decode(Flag.self)
            return .flagSet(flag: value.flag, tenant: value.tenant, enabled: value.enabled)
        case "partition_rebuilt":
            let value = try decode(Rebuilt.self)
            return .partitionRebuilt(tenant: value.tenant, jobID: value.job_id, graphFile: value.graph_file,
                                     graphSHA256: value.graph_sha256)
        case "rebuild_started":
            let value = try decode(RebuildStarted.self)
            return .rebuildStarted(tenants: value.tenants, jobID: value.job_id)
        case "rebuild_ended":
            let value = try decode(RebuildEnded.self)
            return .rebuildEnded(tenants: value.tenants, jobID: value.job_id, state: value.state)
        case "rolled_back":
            let value = try decode(RolledBack.self)
            return .rolledBack(snapshotID: value.snapshot_id, tenants: value.tenants, retired: value.retired)
        case "golden_queries_replaced": return .goldenQueriesReplaced(queries: try decode(Golden.self).queries)
        case "scan_schedule_changed":
            let value = try decode(Schedule.self)
            return .scanScheduleChanged(policy: value.policy, enabled: value.enabled)
        default: throw StoreError(.decodingFailed, "unknown change kind \(kind)")
        }
    }
}

// MARK: - The log

/// The `changes` table: append inside the change's own transaction, read in `seq` order.
///
/// Ordering scheme (see `docs/ARCHITECTURE.md`): `append` takes the transaction-level
/// advisory lock `appendLock` and only then draws the row's `seq`; the lock is held until
/// the transaction ends. So a row with a larger seq can only be inserted after every
/// transaction holding a smaller one has committed or rolled back, and the visible rows are
/// always a prefix of seq order. A reader that asks for `seq > lastApplied` never skips a row.
/// The price: appends are serialised from the append to the commit, so each write path
/// appends as its last statement.
public enum ChangeLog {
    /// Arbitrary but fixed advisory-lock keys.
    static let appendLock: Int64 = 0x4642_4348_4E47  // "FBCHNG"
    static let collectionLockBase: Int64 = 0x4642_434F_0000_0000  // "FBCO" + collection id
    public static let channel = "firebreak_changes"
    /// Rows one `read` returns at most.
    public static let readRowsMax = 5_000
    /// Ids one change names at most (a batch is at most a thousand documents).
    public static let rowIDsMax = 100_000

    /// Serialises writers of one collection across every replica until the transaction ends,
    /// so each decides on a state that includes every earlier change to the collection.
    public static func lockCollection(_ collectionID: Int64, on connection: Connection) throws {
        precondition(connection.inTransaction, "the collection lock lives as long as a transaction")
        try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(collectionLockBase + collectionID)])
    }

    /// Appends a change in the caller's open transaction and returns its seq; the NOTIFY that
    /// wakes the replicas is delivered at commit.
    public static func append(_ change: Change, collectionID: Int64, origin: String, on connection: Connection) throws -> Int64 {
        precondition(connection.inTransaction, "a change is appended in the transaction that makes it")
        let payload = try change.payloadJSON()
        try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(appendLock)])
        let seq = try connection.query("""
            INSERT INTO changes (collection_id, kind, version, payload, origin) VALUES ($1, $2, $3, $4::jsonb, $5)
            RETURNING seq
            """, [.integer(collectionID), .text(change.kind), .integer(Int64(Change.payloadVersion)), .text(payload),
                  .text(origin)])[0].integer("seq")
        try connection.notify(channel, payload: String(seq))
        return seq
    }

    /// Whether the change `seq` is in the log (committed), as this connection sees it. How a
    /// writer whose COMMIT got no answer learns whether it took effect.
    public static func contains(seq: Int64, on connection: Connection) throws -> Bool {
        !(try connection.query("SELECT 1 FROM changes WHERE seq = $1", [.integer(seq)]).isEmpty)
    }

    /// The largest committed seq (0 for an empty log). With the prefix property every row at
    /// or below it that will ever be visible already is.
    public static func head(on connection: Connection) throws -> Int64 {
        try connection.query("SELECT coalesce(max(seq), 0) AS head FROM changes")[0].integer("head")
    }

    /// Rows after `seq`, oldest first, at most `limit`; only `collectionID`'s when given.
    public static func read(after seq: Int64, collectionID: Int64? = nil, limit: Int = readRowsMax,
                            on connection: Connection) throws -> [ChangeRow] {
        precondition((1...readRowsMax).contains(limit), "limit is validated by the caller")
        return try connection.query("""
            SELECT seq, collection_id, kind, version, payload::text AS payload, origin FROM changes
            WHERE seq > $1 AND ($2::bigint IS NULL OR collection_id = $2) ORDER BY seq LIMIT $3
            """, [.integer(seq), collectionID.map(SQLValue.integer) ?? .null, .integer(Int64(limit))]).map { row in
            let seq = try row.integer("seq")
            let change: Change
            do {
                change = try Change.decode(kind: try row.string("kind"), version: Int32(try row.integer("version")),
                                           payload: try row.string("payload"))
            } catch {
                throw StoreError(.decodingFailed, "change \(seq): \((error as? StoreError)?.message ?? "\(error)")")
            }
            return ChangeRow(seq: seq, collectionID: try row.integer("collection_id"), change: change, origin: try row.string("origin"))
        }
    }

    /// What a truncation removed: how many rows, and the rebuilt-graph files only those rows
    /// named (the caller deletes them: no replica can apply those rows any more).
    public struct Truncation: Sendable, Equatable {
        public let rows: Int
        public let graphFiles: [String]
    }

    /// Removes rows below `seq` and raises the floor to it, in one transaction; the floor never
    /// moves down. The caller picks `seq` (see `retainedFrom`).
    @discardableResult
    public static func truncate(below seq: Int64, on connection: Connection) throws -> Truncation {
        try connection.transaction { c in
            try c.query("UPDATE change_log_floor SET below = greatest(below, $1) WHERE id = 1", [.integer(seq)])
            let removed = try c.query("""
                DELETE FROM changes WHERE seq < $1 RETURNING kind, payload ->> 'graph_file' AS graph_file
                """, [.integer(seq)])
            return Truncation(rows: removed.count, graphFiles: try removed.compactMap { try $0.optionalString("graph_file") })
        }
    }

    /// Rows below this position have been deleted (0 when none has).
    public static func floor(on connection: Connection) throws -> Int64 {
        try connection.query("SELECT below FROM change_log_floor WHERE id = 1").first?.integer("below") ?? 0
    }

    /// The lowest position anyone may still need: the oldest retained snapshot's (replicas
    /// start from snapshots) and every live replica's applied position (they catch up by
    /// replay). Nil when no snapshot has a position yet: nothing may be truncated.
    public static func retainedFrom(liveWithinSeconds seconds: Double, on connection: Connection) throws -> Int64? {
        guard let snapshot = try SnapshotRecords.oldestRetainedChangeSeq(on: connection) else { return nil }
        let live = try ReplicaRecords.all(on: connection).filter { $0.silentSeconds < seconds }.map(\.appliedSeq)
        return min(snapshot, live.min() ?? snapshot)
    }
}

// MARK: - Replicas

/// Serving replicas and their applied positions (heartbeats).
public enum ReplicaRecords {
    /// A replica whose heartbeat is older than this is not live: not waited for by
    /// `--wait-all`, and change-log retention does not keep rows for it.
    public static let silentSecondsMax = 10.0

    public struct Replica: Sendable, Equatable {
        public let name: String
        public let appliedSeq: Int64
        /// Seconds since its last heartbeat.
        public let silentSeconds: Double
        public let problem: String?
    }

    public static func heartbeat(name: String, appliedSeq: Int64, problem: String?, on connection: Connection) throws {
        try connection.query("""
            INSERT INTO replicas (name, applied_seq, problem) VALUES ($1, $2, $3)
            ON CONFLICT (name) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, problem = EXCLUDED.problem,
                                             heartbeat_at = now()
            """, [.text(name), .integer(appliedSeq), problem.map(SQLValue.text) ?? .null])
    }

    public static func all(on connection: Connection) throws -> [Replica] {
        try connection.query("""
            SELECT name, applied_seq, extract(epoch FROM now() - heartbeat_at)::float8 AS silent, problem
            FROM replicas ORDER BY name
            """).map { row in
            Replica(name: try row.string("name"), appliedSeq: try row.integer("applied_seq"),
                    silentSeconds: try row.real("silent"), problem: try row.optionalString("problem"))
        }
    }
}
