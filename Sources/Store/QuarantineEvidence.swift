import Foundation

/// What a quarantine entry keeps as evidence of the document it withholds, captured before
/// the quarantine (the `scores` column): its text and the SHA-256 of the text and of the
/// embedding's bytes, and the score that justified the action when one was given (a HubScan z).
public struct QuarantineEvidence: Codable, Sendable, Equatable {
    public var externalID: String
    public var tenant: String
    public var text: String
    public var textSHA256: String
    public var embeddingSHA256: String
    public var score: Double?

    enum CodingKeys: String, CodingKey {
        case tenant, text, score
        case externalID = "external_id", textSHA256 = "text_sha256", embeddingSHA256 = "embedding_sha256"
    }

    public init(externalID: String, tenant: String, text: String, textSHA256: String, embeddingSHA256: String, score: Double?) {
        self.externalID = externalID
        self.tenant = tenant
        self.text = text
        self.textSHA256 = textSHA256
        self.embeddingSHA256 = embeddingSHA256
        self.score = score
    }

    /// The bytes stored (and digested into the incident event): sorted keys, no key strategy.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension QuarantineRecords {
    /// The evidence of each active entry of a collection, by document row id. An entry
    /// quarantined without evidence (`{}`) or with evidence that no longer decodes has none.
    public static func evidence(collectionID: Int64, on connection: Connection) throws -> [Int64: QuarantineEvidence] {
        let rows = try connection.query("""
            SELECT document_id, scores::text AS evidence FROM quarantine_entries
            WHERE collection_id = $1 AND released_at IS NULL
            """, [.integer(collectionID)]).map { (try $0.integer("document_id"), try $0.string("evidence")) }
        var evidence: [Int64: QuarantineEvidence] = [:]
        for (document, json) in rows {
            evidence[document] = try? JSONDecoder().decode(QuarantineEvidence.self, from: Data(json.utf8))
        }
        return evidence
    }
}
