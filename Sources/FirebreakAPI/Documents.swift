import Foundation

// `/v1/collections/{name}/documents`: ingest, fetch, delete.

public struct NewDocumentBody: Codable, Sendable {
    public var id: String
    public var tenant: String?
    public var text: String
    public var embedding: [Float]
    public var metadata: JSONValue?

    public init(id: String, tenant: String? = nil, text: String, embedding: [Float], metadata: JSONValue? = nil) {
        self.id = id
        self.tenant = tenant
        self.text = text
        self.embedding = embedding
        self.metadata = metadata
    }
}

public struct IngestBody: Codable, Sendable {
    public var documents: [NewDocumentBody]

    public init(documents: [NewDocumentBody]) {
        self.documents = documents
    }
}

public struct IngestResultBody: Codable, Sendable {
    public var ingested: Int
    public var ids: [String]
    /// Documents the ingest screen scored at or above its threshold.
    public var screened: [ScreenedBody]
    /// Those quarantined on arrival (an auto-contain schedule is enabled), and under which incident.
    public var held: [String]
    public var incidentID: String?
    enum CodingKeys: String, CodingKey { case ingested, ids, screened, held, incidentID = "incident_id" }

    public init(ingested: Int, ids: [String], screened: [ScreenedBody], held: [String], incidentID: String? = nil) {
        self.ingested = ingested
        self.ids = ids
        self.screened = screened
        self.held = held
        self.incidentID = incidentID
    }
}

public struct ScreenedBody: Codable, Sendable {
    public var id: String
    public var tenant: String
    public var wouldEnterTopK: Int
    public var z: Double
    public var threshold: Double
    public var scanID: Int64
    enum CodingKeys: String, CodingKey {
        case id, tenant, z, threshold, wouldEnterTopK = "would_enter_top_k", scanID = "scan_id"
    }

    public init(id: String, tenant: String, wouldEnterTopK: Int, z: Double, threshold: Double, scanID: Int64) {
        self.id = id
        self.tenant = tenant
        self.wouldEnterTopK = wouldEnterTopK
        self.z = z
        self.threshold = threshold
        self.scanID = scanID
    }
}

public struct DocumentBody: Codable, Sendable {
    public var id: String
    public var tenant: String
    public var text: String
    public var embedding: [Float]
    public var metadata: JSONValue
    public var contentSHA256: String
    public var ingestedAt: String
    enum CodingKeys: String, CodingKey {
        case id, tenant, text, embedding, metadata, contentSHA256 = "content_sha256", ingestedAt = "ingested_at"
    }

    public init(id: String, tenant: String, text: String, embedding: [Float], metadata: JSONValue, contentSHA256: String,
                ingestedAt: String) {
        self.id = id
        self.tenant = tenant
        self.text = text
        self.embedding = embedding
        self.metadata = metadata
        self.contentSHA256 = contentSHA256
        self.ingestedAt = ingestedAt
    }
}

public struct DeletedBody: Codable, Sendable {
    public var id: String
    public var deleted: Bool

    public init(id: String, deleted: Bool) {
        self.id = id
        self.deleted = deleted
    }
}

