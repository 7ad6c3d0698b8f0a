import Crypto
import Foundation

/// A document as the system of record keeps it.
public struct DocumentRecord: Sendable, Equatable {
    public var tenant: String
    public var externalID: String
    public var text: String
    public var embedding: [Float]
    /// A JSON object, as text.
    public var metadataJSON: String
    public var source: String?

    public init(tenant: String, externalID: String, text: String, embedding: [Float],
                metadataJSON: String = "{}", source: String? = nil) {
        self.tenant = tenant
        self.externalID = externalID
        self.text = text
        self.embedding = embedding
        self.metadataJSON = metadataJSON
        self.source = source
    }
}

/// Writes documents, all or nothing: every record is validated into a typed error before
/// the transaction starts, and the database's own constraints back the checks up.
public enum DocumentRecords {
    public static let metadataBytesMax = 64 << 10
    public static let textBytesMax = 1 << 20
    public static let externalIDBytesMax = 512
    public static let batchMax = 10_000

    /// Validates every record; the first problem is an `invalid_input` error naming the record.
    public static func validate(_ records: [DocumentRecord], dimension: Int) throws(StoreError) {
        guard records.count <= batchMax else {
            throw StoreError(.invalidInput, "\(records.count) documents in one batch; the limit is \(batchMax)")
        }
        for (index, record) in records.enumerated() {
            let name = "document \(index) (\"\(record.externalID.prefix(64))\")"
            guard !record.externalID.isEmpty, record.externalID.utf8.count <= externalIDBytesMax else {
                throw StoreError(.invalidInput, "\(name): id must be 1...\(externalIDBytesMax) bytes")
            }
            guard record.text.utf8.count <= textBytesMax else {
                throw StoreError(.invalidInput, "\(name): text has \(record.text.utf8.count) bytes; the limit is \(textBytesMax)")
            }
            // PostgreSQL's text cannot hold U+0000; refused here, never truncated.
            for (field, value) in [("id", record.externalID), ("tenant", record.tenant), ("text", record.text),
                                   ("source", record.source ?? "")] where value.utf8.contains(0) {
                throw StoreError(.invalidInput, "\(name): \(field) contains a NUL character (U+0000)")
            }
            guard record.embedding.count == dimension else {
                throw StoreError(.invalidInput, "\(name): embedding has \(record.embedding.count) dimensions; the collection has \(dimension)")
            }
            if let bad = record.embedding.firstIndex(where: { !$0.isFinite }) {
                throw StoreError(.invalidInput, "\(name): embedding[\(bad)] is \(record.embedding[bad]), not a finite number")
            }
            guard record.metadataJSON.utf8.count <= metadataBytesMax else {
                throw StoreError(.invalidInput, "\(name): metadata has \(record.metadataJSON.utf8.count) bytes; the limit is \(metadataBytesMax)")
            }
            guard (try? JSONDecoder().decode(JSONObjectShape.self, from: Data(record.metadataJSON.utf8))) != nil else {
                throw StoreError(.invalidInput, "\(name): metadata must be a JSON object")
            }
        }
    }

    /// Takes `count` row ids from the documents' identity sequence, for an `insert` that is
    /// given them: the engine links a batch's vectors into its graph, under these ids, while
    /// the batch is stored. Ids of a batch that never commits are simply never used.
    public static func reserveRowIDs(_ count: Int, on connection: Connection) throws -> [Int64] {
        precondition(count >= 0, "a count of row ids")
        guard count > 0 else { return [] }
        return try connection.query("""
            SELECT nextval(pg_get_serial_sequence('documents', 'id')) AS id FROM generate_series(1, $1::int)
            """, [.text(String(count))]).map { try $0.integer("id") }
    }

    /// Inserts `records` into `collectionID` in one transaction; returns their row ids, in
    /// the order of `records`: the ids `reserveRowIDs` gave, when given, else new ones. An
    /// unknown tenant or collection is `unknown_reference`; a `dimension` other than the
    /// collection's is `invalid_input`; a duplicate id is `constraint_violation`. With
    /// `createTenants`, tenants not yet known are created in the same transaction.
    ///
    /// The rows travel as one binary `COPY` (no float is formatted as text) into a
    /// transaction-local staging table, then one `INSERT … SELECT` moves them into
    /// `documents`. PostgreSQL refuses `COPY` into a table under row-level security, and the
    /// staging step keeps every policy and constraint of `documents` in force for the insert.
    /// The staging table is the connection's own (temporary) and empty at every commit; a
    /// rolled-back batch leaves nothing in it either. Its rows, like those of `documents`
    /// (migration 0020), stay inline up to 8160 bytes: PostgreSQL does not try to compress
    /// the embedding's floats on their way through.
    public static func insert(_ records: [DocumentRecord], rowIDs reserved: [Int64]? = nil, collectionID: Int64,
                              dimension: Int, createTenants: Bool = false, on connection: Connection) throws -> [Int64] {
        try validate(records, dimension: dimension)
        precondition(reserved.map { $0.count == records.count } ?? true, "one reserved row id per record")
        guard !records.isEmpty else { return [] }
        return try connection.transaction { c in
            try checkDimension(dimension, ofCollection: collectionID, on: c)
            if createTenants { try CollectionRecords.ensureTenants(records.map(\.tenant), on: c) }
            try c.query("""
                DO $$ BEGIN
                    IF to_regclass('pg_temp.document_copy') IS NULL THEN
                        CREATE TEMPORARY TABLE document_copy (
                            id bigint, tenant text, collection_id bigint, external_id text, text text, embedding real[],
                            metadata jsonb, content_sha256 bytea, source text)
                            WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS;
                        ALTER TABLE document_copy ALTER COLUMN embedding SET STORAGE EXTERNAL;
                    END IF;
                END $$
                """)
            try c.copyIn("""
                COPY document_copy (id, tenant, collection_id, external_id, text, embedding, metadata, content_sha256, source)
                FROM STDIN (FORMAT binary)
                """, data: copyBody(records, rowIDs: reserved, collectionID: collectionID, dimension: dimension))
            let inserted: [Row]
            do {
                inserted = try c.query(reserved == nil ? """
                    INSERT INTO documents (tenant, collection_id, external_id, text, embedding, metadata, content_sha256, source)
                    SELECT tenant, collection_id, external_id, text, embedding, metadata, content_sha256, source FROM document_copy
                    RETURNING id, tenant, external_id
                    """ : """
                    INSERT INTO documents (id, tenant, collection_id, external_id, text, embedding, metadata, content_sha256, source)
                    OVERRIDING SYSTEM VALUE
                    SELECT id, tenant, collection_id, external_id, text, embedding, metadata, content_sha256, source FROM document_copy
                    RETURNING id, tenant, external_id
                    """)
            } catch let error as StoreError where error.code == .unknownReference {
                throw StoreError(.unknownReference, "a document of this batch names an unknown tenant or collection \(collectionID): \(error.message)",
                                 sqlstate: error.sqlstate)
            }
            let ids = try rowIDs(of: records, from: inserted)
            if let reserved, ids != reserved {
                throw StoreError(.invalidData, "the batch was stored under other row ids than the ones reserved for it")
            }
            return ids
        }
    }

    /// The records were validated for `dimension`; the collection must have been declared with
    /// it, or its rows could never be loaded into its graph again.
    private static func checkDimension(_ dimension: Int, ofCollection collectionID: Int64, on connection: Connection) throws {
        guard let declared = try connection.query("SELECT dimension FROM collections WHERE id = $1",
                                                  [.integer(collectionID)]).first else {
            throw StoreError(.unknownReference, "collection \(collectionID) does not exist")
        }
        let collectionDimension = try declared.integer("dimension")
        guard collectionDimension == Int64(dimension) else {
            throw StoreError(.invalidInput, "collection \(collectionID) has dimension \(collectionDimension); the batch has dimension \(dimension)")
        }
    }

    /// The binary COPY input for `records`, in the column order of `insert`'s statement.
    static func copyBody(_ records: [DocumentRecord], rowIDs: [Int64]?, collectionID: Int64, dimension: Int) -> [UInt8] {
        var buffer = BinaryCopyBuffer(fieldCount: 9, reservingBytes: records.count * (dimension * 8 + 256))
        for (index, record) in records.enumerated() {
            buffer.beginTuple()
            if let rowIDs { buffer.bigint(rowIDs[index]) } else { buffer.null() }
            buffer.text(record.tenant)
            buffer.bigint(collectionID)
            buffer.text(record.externalID)
            buffer.text(record.text)
            buffer.realArray(record.embedding)
            buffer.jsonb(record.metadataJSON)
            buffer.bytea(Array(SHA256.hash(data: Data(record.text.utf8))))
            buffer.optionalText(record.source)
        }
        return buffer.finish()
    }

    /// The row ids of just-inserted `records`, in their order (`RETURNING` has no order of
    /// its own; an id is unique per tenant in a collection, so each record finds its own row).
    private static func rowIDs(of records: [DocumentRecord], from inserted: [Row]) throws -> [Int64] {
        struct Key: Hashable { var tenant, externalID: String }
        var byKey: [Key: Int64] = [:]
        for row in inserted { byKey[Key(tenant: try row.string("tenant"), externalID: try row.string("external_id"))] = try row.integer("id") }
        return try records.map { record in
            guard let id = byKey[Key(tenant: record.tenant, externalID: record.externalID)] else {
                throw StoreError(.invalidData, "document \"\(record.externalID)\" of tenant \"\(record.tenant)\" was inserted but not returned")
            }
            return id
        }
    }
}

/// A stored document as a reader sees it.
public struct StoredDocument: Sendable, Equatable {
    public var rowID: Int64
    public var record: DocumentRecord
    public var contentSHA256: String
    public var ingestedAt: String
}

extension DocumentRecords {
    /// Reads one live document *as the reader role*, with `tenant` as the row-level-security
    /// tenant: a document of another tenant, a deleted one or a quarantined one is nil,
    /// whatever the caller believed.
    public static func fetch(rowID: Int64, tenant: String, on connection: Connection) throws -> StoredDocument? {
        try connection.transaction(settings: ["role": DatabaseRoles.reader, "firebreak.tenant": tenant]) { c in
            guard let row = try c.query("""
                SELECT id, tenant, external_id, text, embedding::text AS embedding, metadata::text AS metadata, source,
                       encode(content_sha256, 'hex') AS sha,
                       to_char(ingested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ingested_at
                FROM documents WHERE id = $1
                """, [.integer(rowID)]).first else { return nil }
            let record = DocumentRecord(tenant: try row.string("tenant"), externalID: try row.string("external_id"),
                                        text: try row.string("text"), embedding: try parseVector(row.string("embedding")),
                                        metadataJSON: try row.string("metadata"), source: try row.optionalString("source"))
            return StoredDocument(rowID: try row.integer("id"), record: record, contentSHA256: try row.string("sha"),
                                  ingestedAt: try row.string("ingested_at"))
        }
    }

    /// Marks a document deleted. A document under an active quarantine is kept (it is
    /// evidence): `invalid_input`. Returns false when no live document had that row id.
    public static func markDeleted(rowID: Int64, collectionID: Int64, on connection: Connection) throws -> Bool {
        try connection.transaction { c in
            if !(try c.query("SELECT 1 FROM quarantine_entries WHERE document_id = $1 AND released_at IS NULL",
                             [.integer(rowID)]).isEmpty) {
                throw StoreError(.invalidInput, "document \(rowID) is under quarantine; release it before deleting it")
            }
            return !(try c.query("""
                UPDATE documents SET deleted_at = now() WHERE id = $1 AND collection_id = $2 AND deleted_at IS NULL RETURNING id
                """, [.integer(rowID), .integer(collectionID)]).isEmpty)
        }
    }

    /// Every live document of a collection (what the engine loads at start-up), by row id.
    public static func loadLive(collectionID: Int64, on connection: Connection) throws -> [(rowID: Int64, record: DocumentRecord)] {
        var rows: [(rowID: Int64, record: DocumentRecord)] = []
        try loadLive(collectionID: collectionID, chunkRows: liveChunkRowsMax, on: connection) { chunk in
            rows += chunk
            return true
        }
        return rows
    }

    /// The most rows `loadLive` hands over at once.
    public static let liveChunkRowsMax = 100_000

    /// Every live document of a collection (of one tenant, given `tenant`), by row id, handed
    /// to `body` in chunks of `chunkRows` as the server sends them, so the caller can work
    /// on one chunk while the next arrives. `body` returns false to stop reading (the
    /// statement is cancelled and nothing more is handed over; inside a transaction, the
    /// cancel may abort it, so stop early only on a connection of its own). One statement: one
    /// snapshot.
    public static func loadLive(collectionID: Int64, tenant: String? = nil, chunkRows: Int, on connection: Connection,
                                _ body: ([(rowID: Int64, record: DocumentRecord)]) -> Bool) throws(StoreError) {
        precondition((1...liveChunkRowsMax).contains(chunkRows), "chunkRows must be in 1...\(liveChunkRowsMax)")
        var chunk: [(rowID: Int64, record: DocumentRecord)] = []
        chunk.reserveCapacity(chunkRows)
        var stopped = false
        do {
            try connection.forEachBinaryRow("""
                SELECT id, tenant, external_id, text, embedding FROM documents
                WHERE collection_id = $1 AND ($2::text IS NULL OR tenant = $2) AND deleted_at IS NULL ORDER BY id
                """, [.integer(collectionID), tenant.map { .text($0) } ?? .null],
                columns: [.int8, .text, .text, .text, .realArray]) { row throws(StoreError) in
                chunk.append((try row.int64(0), DocumentRecord(tenant: try row.string(1), externalID: try row.string(2),
                                                               text: try row.string(3), embedding: try parseVector(arraySend: row.bytes(4)))))
                guard chunk.count == chunkRows else { return }
                defer { chunk.removeAll(keepingCapacity: true) }
                guard body(chunk) else {
                    stopped = true
                    throw StoreError(.queryFailed, "the reader stopped the read")
                }
            }
        } catch where stopped {
            return
        }
        if !chunk.isEmpty { _ = body(chunk) }
    }

    /// A live document without its embedding (start-up from a snapshot reads these only).
    public struct LiveEntry: Sendable {
        public let rowID: Int64
        public let tenant: String
        public let externalID: String
        public let text: String
    }

    /// Every live document of a collection, without embeddings, by row id.
    public static func loadLiveEntries(collectionID: Int64, on connection: Connection) throws -> [LiveEntry] {
        try connection.query("""
            SELECT id, tenant, external_id, text FROM documents WHERE collection_id = $1 AND deleted_at IS NULL ORDER BY id
            """, [.integer(collectionID)]).map { row in
            LiveEntry(rowID: try row.integer("id"), tenant: try row.string("tenant"), externalID: try row.string("external_id"),
                      text: try row.string("text"))
        }
    }

    /// Parses PostgreSQL's text form of a `real[]`: `{1,2.5,-3e-05}`.
    static func parseVector(_ text: String) throws(StoreError) -> [Float] {
        guard text.hasPrefix("{"), text.hasSuffix("}") else {
            throw StoreError(.decodingFailed, "embedding is not an array literal")
        }
        var values: [Float] = []
        for part in text.utf8.dropFirst().dropLast().split(separator: UInt8(ascii: ",")) {
            guard let value = Float(Substring(decoding: part, as: UTF8.self)) else {
                throw StoreError(.decodingFailed, "embedding has a component that is not a number")
            }
            values.append(value)
        }
        return values
    }

    /// Parses a `real[]` in PostgreSQL's binary array form (`array_send`, read as a bytea): no
    /// float is formatted as text on the way out, nor parsed back. The layout: ndim, has-nulls flag and element type (int32 each), one (length, lower bound) pair per
    /// dimension, then each element as its byte length (4) and big-endian IEEE 754 bits.
    static func parseVector(arraySend bytes: [UInt8]) throws(StoreError) -> [Float] {
        let parsed = bytes.withUnsafeBytes { buffer in
            Result { () throws(StoreError) -> [Float] in try parseVector(arraySend: buffer) }
        }
        return try parsed.get()
    }

    /// `parseVector(arraySend:)` over bytes read in place (a binary result's `real[]` column).
    static func parseVector(arraySend bytes: UnsafeRawBufferPointer) throws(StoreError) -> [Float] {
        guard bytes.count >= 12 else { throw StoreError(.decodingFailed, "embedding is not a binary array") }
        func int32(_ at: Int) -> Int32 { Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
        let dimensions = int32(0)
        guard dimensions == 1 || (dimensions == 0 && bytes.count == 12) else {
            throw StoreError(.decodingFailed, "embedding has \(dimensions) dimensions, not 1")
        }
        guard dimensions == 1 else { return [] }
        guard bytes.count >= 20 else { throw StoreError(.decodingFailed, "embedding is a truncated binary array") }
        let count = Int(int32(12))
        guard count >= 0, bytes.count == 20 + count * 8 else {
            throw StoreError(.decodingFailed, "embedding's binary array holds \(bytes.count) bytes for \(count) elements")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let at = 20 + i * 8
            guard int32(at) == 4 else { throw StoreError(.decodingFailed, "embedding component \(i) is NULL or not a real") }
            values[i] = Float(bitPattern: UInt32(bitPattern: int32(at + 4)))
        }
        return values
    }

}

extension DocumentRecords {
    /// Documents of a collection by row id, as the owner sees them (for evidence capture).
    public static func load(rowIDs: [Int64], collectionID: Int64, on connection: Connection) throws
        -> [(rowID: Int64, record: DocumentRecord)] {
        try connection.query("""
            SELECT id, tenant, external_id, text, array_send(embedding) AS embedding, metadata::text AS metadata
            FROM documents WHERE collection_id = $1 AND id = ANY($2::bigint[]) ORDER BY id
            """, [.integer(collectionID), .text("{" + rowIDs.map(String.init).joined(separator: ",") + "}")]).map { row in
            (try row.integer("id"), DocumentRecord(tenant: try row.string("tenant"), externalID: try row.string("external_id"),
                                                   text: try row.string("text"),
                                                   embedding: try parseVector(arraySend: row.bytes("embedding")),
                                                   metadataJSON: try row.string("metadata")))
        }
    }
}

extension DocumentRecords {
    /// Marks live documents deleted because a rollback restored an index that never held them.
    /// The rows stay as evidence (quarantined ones included: a rollback does not release).
    /// Returns how many rows changed. Runs in the caller's transaction.
    public static func retire(rowIDs: [Int64], collectionID: Int64, on connection: Connection) throws -> Int {
        guard !rowIDs.isEmpty else { return 0 }
        return try connection.query("""
            UPDATE documents SET deleted_at = now()
            WHERE collection_id = $1 AND id = ANY($2::bigint[]) AND deleted_at IS NULL RETURNING id
            """, [.integer(collectionID), .text("{" + rowIDs.map(String.init).joined(separator: ",") + "}")]).count
    }
}

extension DocumentRecords {
    /// Longest metadata field name a domain-scoped scan may name.
    public static let metadataFieldBytesMax = 128

    /// One top-level metadata field, as text (`metadata->>field`), per live document of a
    /// collection (one tenant's, when given); documents without it are left out. Labels
    /// documents for a domain-scoped scan.
    public static func metadataField(_ field: String, collectionID: Int64, tenant: String?,
                                     on connection: Connection) throws -> [Int64: String] {
        precondition(!field.isEmpty && field.utf8.count <= metadataFieldBytesMax, "validated by the caller")
        var values = [Int64: String]()
        for row in try connection.query("""
            SELECT id, metadata->>$2 AS value FROM documents
            WHERE collection_id = $1 AND deleted_at IS NULL AND metadata ? $2 AND ($3::text IS NULL OR tenant = $3)
            """, [.integer(collectionID), .text(field), tenant.map(SQLValue.text) ?? .null]) {
            if let value = try row.optionalString("value") { values[try row.integer("id")] = value }
        }
        return values
    }
}

/// Decodes from any JSON object and from nothing else (the decoder parses the whole text
/// first, so invalid JSON anywhere in it fails too).
private struct JSONObjectShape: Decodable {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: AnyKey.self)
    }
}

extension DocumentRecords {
    /// Of `documents` (tenant and external id: ids are unique per tenant), the external ids a
    /// search of the collection can return: live (neither deleted nor retired by a rollback)
    /// and under no active quarantine. Sorted.
    public static func served(documents: [(tenant: String, id: String)], collectionID: Int64,
                              on connection: Connection) throws -> [String] {
        try connection.query("""
            SELECT d.external_id FROM documents d
            JOIN unnest($2::text[], $3::text[]) AS named (tenant, external_id)
              ON named.tenant = d.tenant AND named.external_id = d.external_id
            WHERE d.collection_id = $1 AND d.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM quarantine_entries q WHERE q.document_id = d.id AND q.released_at IS NULL)
            ORDER BY d.external_id
            """, [.integer(collectionID), .text(SQLArray.literal(documents.map(\.tenant))),
                  .text(SQLArray.literal(documents.map(\.id)))]).map { try $0.string("external_id") }
    }
}
