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
            guard record.embedding.count == dimension else {
                throw StoreError(.invalidInput, "\(name): embedding has \(record.embedding.count) dimensions; the collection has \(dimension)")
            }
            if let bad = record.embedding.firstIndex(where: { !$0.isFinite }) {
                throw StoreError(.invalidInput, "\(name): embedding[\(bad)] is \(record.embedding[bad]), not a finite number")
            }
            guard record.metadataJSON.utf8.count <= metadataBytesMax else {
                throw StoreError(.invalidInput, "\(name): metadata has \(record.metadataJSON.utf8.count) bytes; the limit is \(metadataBytesMax)")
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(record.metadataJSON.utf8)), object is [String: Any] else {
                throw StoreError(.invalidInput, "\(name): metadata must be a JSON object")
            }
        }
    }

    /// Inserts `records` into `collectionID` in one transaction; returns their row ids.
    /// An unknown tenant is `unknown_reference`; a duplicate id is `constraint_violation`.
    public static func insert(_ records: [DocumentRecord], collectionID: Int64, dimension: Int,
                              on connection: Connection) throws -> [Int64] {
        try validate(records, dimension: dimension)
        return try connection.transaction { c in
            try records.map { record in
                let digest = Array(SHA256.hash(data: Data(record.text.utf8)))
                let vector = "{" + record.embedding.map { "\($0)" }.joined(separator: ",") + "}"
                do {
                    return try c.query("""
                        INSERT INTO documents (tenant, collection_id, external_id, text, embedding, metadata,
                                               content_sha256, source)
                        VALUES ($1, $2, $3, $4, $5::real[], $6::jsonb, $7::bytea, $8) RETURNING id
                        """, [.text(record.tenant), .integer(collectionID), .text(record.externalID), .text(record.text),
                              .text(vector), .text(record.metadataJSON), .bytes(digest), record.source.map(SQLValue.text) ?? .null])[0]
                        .integer("id")
                } catch let error as StoreError where error.code == .unknownReference {
                    throw StoreError(.unknownReference, "document \"\(record.externalID)\": unknown tenant \"\(record.tenant)\" or collection \(collectionID)", sqlstate: error.sqlstate)
                }
            }
        }
    }
}
