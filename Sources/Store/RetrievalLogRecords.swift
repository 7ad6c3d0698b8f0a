import Foundation

/// One search as the retrieval log keeps it.
public struct RetrievalRecord: Sendable, Equatable {
    public let collectionID: Int64
    /// The tenant the search ran for ("" for an unscoped, all-tenant search).
    public let tenant: String
    public let traceID: String
    public let servedAt: Date
    /// Row ids of the documents returned, in rank order.
    public let documents: [Int64]

    public init(collectionID: Int64, tenant: String, traceID: String, servedAt: Date, documents: [Int64]) {
        self.collectionID = collectionID
        self.tenant = tenant
        self.traceID = traceID
        self.servedAt = servedAt
        self.documents = documents
    }
}

/// The retrieval log in PostgreSQL: batched inserts, the blast-radius query, and retention.
public enum RetrievalLogRecords {
    /// Rows per INSERT statement.
    public static let batchRowsMax = 2_000

    /// Inserts a batch with one statement per `batchRowsMax` rows (arrays unnested server-side).
    public static func insert(_ records: [RetrievalRecord], on connection: Connection) throws {
        for start in stride(from: 0, to: records.count, by: batchRowsMax) {
            let batch = records[start..<min(start + batchRowsMax, records.count)]
            try connection.query("""
                INSERT INTO retrieval_log (collection_id, tenant, trace_id, served_at, documents)
                SELECT c, t, r, to_timestamp(s), d::bigint[]
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::text[]) AS u(c, t, r, s, d)
                """, [.text(SQLArray.literal(batch.map { String($0.collectionID) })),
                      .text(SQLArray.literal(batch.map(\.tenant))),
                      .text(SQLArray.literal(batch.map(\.traceID))),
                      .text(SQLArray.literal(batch.map { String($0.servedAt.timeIntervalSince1970) })),
                      .text(SQLArray.literal(batch.map { "{" + $0.documents.map(String.init).joined(separator: ",") + "}" }))])
        }
    }

    /// Who was served any of `documents`, per tenant: how many requests, first and last
    /// time, and the most recent trace ids (at most `tracesMax` per tenant).
    public struct Exposure: Sendable, Equatable, Codable {
        public let tenant: String
        public let requests: Int
        public let first: String
        public let last: String
        public let traceIDs: [String]
        enum CodingKeys: String, CodingKey { case tenant, requests, first, last, traceIDs = "trace_ids" }

        public init(tenant: String, requests: Int, first: String, last: String, traceIDs: [String]) {
            self.tenant = tenant
            self.requests = requests
            self.first = first
            self.last = last
            self.traceIDs = traceIDs
        }
    }

    public static let tracesMax = 50

    public static func exposure(collectionID: Int64, documents: [Int64], on connection: Connection) throws -> [Exposure] {
        guard !documents.isEmpty else { return [] }
        return try connection.query("""
            SELECT tenant, count(*) AS requests,
                   to_char(min(served_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS first,
                   to_char(max(served_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last,
                   array_to_string((array_agg(trace_id ORDER BY served_at DESC, id DESC))[1:$3], ',') AS traces
            FROM retrieval_log WHERE collection_id = $1 AND documents && $2::bigint[]
            GROUP BY tenant ORDER BY tenant
            """, [.integer(collectionID), .text("{" + documents.map(String.init).joined(separator: ",") + "}"),
                  .integer(Int64(tracesMax))]).map(Self.exposure(row:))
    }

    /// The exposure of everything quarantined under an incident (released entries included:
    /// they were served as suspect), across collections.
    public static func exposure(incidentID: String, on connection: Connection) throws -> (documents: Int, exposures: [Exposure]) {
        let documents = try connection.query("SELECT count(DISTINCT document_id) AS n FROM quarantine_entries WHERE incident_id = $1",
                                             [.text(incidentID)])[0].integer("n")
        let exposures = try connection.query("""
            WITH held AS (
                SELECT collection_id, array_agg(document_id) AS ids FROM quarantine_entries
                WHERE incident_id = $1 GROUP BY collection_id)
            SELECT l.tenant, count(*) AS requests,
                   to_char(min(l.served_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS first,
                   to_char(max(l.served_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last,
                   array_to_string((array_agg(l.trace_id ORDER BY l.served_at DESC, l.id DESC))[1:$2], ',') AS traces
            FROM retrieval_log l JOIN held h ON h.collection_id = l.collection_id AND l.documents && h.ids
            GROUP BY l.tenant ORDER BY l.tenant
            """, [.text(incidentID), .integer(Int64(tracesMax))]).map(Self.exposure(row:))
        return (Int(documents), exposures)
    }

    /// A tenant that was served documents of another tenant (the requester named a tenant, and
    /// it is not the document's): what partition isolation should make impossible.
    public struct CrossTenantServing: Sendable, Equatable {
        public let collection: String
        public let requester: String
        public let owner: String
        public let requests: Int
    }

    /// Cross-tenant servings of the documents quarantined under an incident (unscoped,
    /// admin requests, logged with tenant "", are not cross-tenant).
    public static func crossTenantServings(incidentID: String, on connection: Connection) throws -> [CrossTenantServing] {
        try connection.query("""
            WITH held AS (
                SELECT q.collection_id, q.document_id, d.tenant FROM quarantine_entries q
                JOIN documents d ON d.id = q.document_id WHERE q.incident_id = $1)
            SELECT c.name AS collection, l.tenant AS requester, h.tenant AS owner, count(DISTINCT l.id) AS requests
            FROM retrieval_log l JOIN held h ON h.collection_id = l.collection_id AND h.document_id = ANY (l.documents)
            JOIN collections c ON c.id = l.collection_id
            WHERE l.tenant <> '' AND l.tenant <> h.tenant
            GROUP BY c.name, l.tenant, h.tenant ORDER BY c.name, l.tenant, h.tenant
            """, [.text(incidentID)]).map {
            CrossTenantServing(collection: try $0.string("collection"), requester: try $0.string("requester"),
                               owner: try $0.string("owner"), requests: Int(try $0.integer("requests")))
        }
    }

    private static func exposure(row: Row) throws -> Exposure {
        Exposure(tenant: try row.string("tenant"), requests: Int(try row.integer("requests")),
                 first: try row.string("first"), last: try row.string("last"),
                 traceIDs: try row.string("traces").split(separator: ",").map(String.init))
    }

    /// Deletes entries older than `days`; returns how many.
    public static func prune(olderThanDays days: Int, on connection: Connection) throws -> Int {
        precondition(days >= 1, "retention is validated by the caller")
        return try connection.query("DELETE FROM retrieval_log WHERE served_at < now() - make_interval(days => $1) RETURNING 1",
                                    [.integer(Int64(days))]).count
    }
}

/// PostgreSQL array literals of text elements, every element quoted and escaped.
enum SQLArray {
    static func literal(_ elements: [String]) -> String {
        "{" + elements.map { element in
            "\"" + element.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}"
    }
}
