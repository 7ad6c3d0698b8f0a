import Incidents

/// Quarantine entries: which documents are withheld, under which incident, why, and when
/// they were released. Each change is one transaction that also appends an event to the
/// incident's timeline (the caller appends the change-log row that replicas apply in the
/// same transaction). Row-level security hides a quarantined document from the reader role
/// the moment the transaction commits.
public enum QuarantineRecords {
    public static let documentsPerRequestMax = 10_000
    public static let reasonBytesMax = 2_000

    /// Quarantines documents of one collection under an open incident, all or nothing.
    /// Documents already under an active quarantine are left as they are. Returns the
    /// document ids newly quarantined. An id that is not a document of the collection is
    /// `unknown_reference` and nothing is written.
    ///
    /// `evidence` holds, per document, a JSON object captured before the mutation (text,
    /// hashes, scores), stored on its entry; `evidenceDigest` (the SHA-256 over that evidence)
    /// goes onto the incident event, so the timeline's hash chain covers it. The event names
    /// the documents by their external ids, with the row ids alongside.
    public static func quarantine(_ documentIDs: [Int64], collectionID: Int64, incidentID: String, reason: String,
                                  scoresJSON: String = "{}", evidence: [Int64: String] = [:],
                                  evidenceDigest: (sha256: String, documents: Int)? = nil, actor: String,
                                  on connection: Connection) throws -> [Int64] {
        let unique = try validated(documentIDs, reason: reason)
        return try connection.transaction { c in
            let externalIDs = try requireDocuments(unique, of: collectionID, on: c)
            var added: [Int64] = []
            for document in unique {
                let rows = try c.query("""
                    INSERT INTO quarantine_entries (document_id, collection_id, incident_id, reason, scores, quarantined_by)
                    VALUES ($1, $2, $3, $4, $5::jsonb, $6)
                    ON CONFLICT (document_id) WHERE released_at IS NULL DO NOTHING
                    RETURNING document_id
                    """, [.integer(document), .integer(collectionID), .text(incidentID), .text(reason),
                          .text(evidence[document] ?? scoresJSON), .text(actor)])
                if let row = rows.first { added.append(try row.integer("document_id")) }
            }
            let event = Quarantined(collectionID: collectionID, documents: added.map { DocumentReference(externalID: externalIDs[$0], rowID: $0) },
                                    alreadyQuarantined: unique.count - added.count, reason: reason,
                                    evidenceSHA256: evidenceDigest?.sha256, evidenceDocuments: evidenceDigest?.documents)
            try IncidentRecords.appendEvent(event, to: incidentID, actor: actor, on: c)
            return added
        }
    }

    /// Releases active quarantines of these documents, recording who and why on the entries
    /// and on the incident. Returns the document ids released.
    public static func release(_ documentIDs: [Int64], collectionID: Int64, incidentID: String, reason: String,
                               actor: String, on connection: Connection) throws -> [Int64] {
        let unique = try validated(documentIDs, reason: reason)
        return try connection.transaction { c in
            var released: [Int64] = []
            for document in unique {
                let rows = try c.query("""
                    UPDATE quarantine_entries SET released_at = now(), released_by = $3, release_reason = $4
                    WHERE document_id = $1 AND collection_id = $2 AND released_at IS NULL RETURNING document_id
                    """, [.integer(document), .integer(collectionID), .text(actor), .text(reason)])
                if let row = rows.first { released.append(try row.integer("document_id")) }
            }
            let externalIDs = try self.externalIDs(released, of: collectionID, on: c)
            try IncidentRecords.appendEvent(Released(collectionID: collectionID, documents: released.map {
                DocumentReference(externalID: externalIDs[$0], rowID: $0)
            }, reason: reason), to: incidentID, actor: actor, on: c)
            return released
        }
    }

    /// Document ids under an active quarantine in a collection.
    public static func active(collectionID: Int64, on connection: Connection) throws -> [Int64] {
        try connection.query("""
            SELECT document_id FROM quarantine_entries WHERE collection_id = $1 AND released_at IS NULL ORDER BY document_id
            """, [.integer(collectionID)]).map { try $0.integer("document_id") }
    }

    private static func validated(_ documentIDs: [Int64], reason: String) throws(StoreError) -> [Int64] {
        guard !documentIDs.isEmpty, documentIDs.count <= documentsPerRequestMax else {
            throw StoreError(.invalidInput, "give 1...\(documentsPerRequestMax) document ids")
        }
        guard !reason.isEmpty, reason.utf8.count <= reasonBytesMax else {
            throw StoreError(.invalidInput, "a reason of 1...\(reasonBytesMax) bytes is required")
        }
        return Array(Set(documentIDs)).sorted()
    }

    /// The external id of each document (row id) of the collection; `unknown_reference` for a
    /// row id that is not one of its documents.
    private static func requireDocuments(_ ids: [Int64], of collectionID: Int64, on connection: Connection) throws -> [Int64: String] {
        let found = try externalIDs(ids, of: collectionID, on: connection)
        if let missing = ids.first(where: { found[$0] == nil }) {
            throw StoreError(.unknownReference, "document \(missing) is not in collection \(collectionID)")
        }
        return found
    }

    private static func externalIDs(_ ids: [Int64], of collectionID: Int64, on connection: Connection) throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT id, external_id FROM documents WHERE collection_id = $1 AND id = ANY($2::bigint[])
            """, [.integer(collectionID), .text("{" + ids.map(String.init).joined(separator: ",") + "}")])
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.integer("id"), try $0.string("external_id")) })
    }
}

/// An active quarantine entry, with the document it withholds.
public struct QuarantineEntry: Sendable, Equatable {
    public var documentID: Int64
    public var externalID: String
    public var tenant: String
    public var incidentID: String
    public var reason: String
    public var quarantinedBy: String
    public var quarantinedAt: String
}

extension QuarantineRecords {
    /// Active entries of a collection, oldest first; with `tenant`, only that tenant's.
    public static func entries(collectionID: Int64, tenant: String? = nil, on connection: Connection) throws -> [QuarantineEntry] {
        try connection.query("""
            SELECT q.document_id, d.external_id, d.tenant, q.incident_id, q.reason, q.quarantined_by,
                   to_char(q.quarantined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
            FROM quarantine_entries q JOIN documents d ON d.id = q.document_id
            WHERE q.collection_id = $1 AND q.released_at IS NULL AND ($2::text IS NULL OR d.tenant = $2)
            ORDER BY q.quarantined_at, q.document_id
            """, [.integer(collectionID), tenant.map(SQLValue.text) ?? .null]).map { row in
            QuarantineEntry(documentID: try row.integer("document_id"), externalID: try row.string("external_id"),
                            tenant: try row.string("tenant"), incidentID: try row.string("incident_id"),
                            reason: try row.string("reason"), quarantinedBy: try row.string("quarantined_by"),
                            quarantinedAt: try row.string("at"))
        }
    }
}
