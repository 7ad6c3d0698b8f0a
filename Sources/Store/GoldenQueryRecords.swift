/// A collection's golden-query set as stored: the queries (JSON, with each one's baseline
/// reciprocal rank) and their baseline MRR@10.
public struct GoldenQueryRecord: Sendable, Equatable {
    public let collectionID: Int64
    public let queriesJSON: String
    public let baselineMRR: Double
    public let setAt: String

    public init(collectionID: Int64, queriesJSON: String, baselineMRR: Double, setAt: String = "") {
        self.collectionID = collectionID
        self.queriesJSON = queriesJSON
        self.baselineMRR = baselineMRR
        self.setAt = setAt
    }
}

/// Golden-query sets: one per collection, replaced as a whole.
public enum GoldenQueryRecords {
    public static func put(_ record: GoldenQueryRecord, actor: String, on connection: Connection) throws {
        try connection.query("""
            INSERT INTO golden_queries (collection_id, queries, baseline_mrr, set_by) VALUES ($1, $2::jsonb, $3, $4)
            ON CONFLICT (collection_id) DO UPDATE SET queries = EXCLUDED.queries, baseline_mrr = EXCLUDED.baseline_mrr,
                set_by = EXCLUDED.set_by, set_at = now()
            """, [.integer(record.collectionID), .text(record.queriesJSON), .real(record.baselineMRR), .text(actor)])
    }

    public static func load(collectionID: Int64, on connection: Connection) throws -> GoldenQueryRecord? {
        guard let row = try connection.query("""
            SELECT queries::text AS queries, baseline_mrr,
                   to_char(set_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS set_at
            FROM golden_queries WHERE collection_id = $1
            """, [.integer(collectionID)]).first else { return nil }
        return GoldenQueryRecord(collectionID: collectionID, queriesJSON: try row.string("queries"),
                                 baselineMRR: try row.real("baseline_mrr"), setAt: try row.string("set_at"))
    }
}
