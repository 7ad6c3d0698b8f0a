import Foundation

// `/v1/collections/{name}/documents`: ingest, fetch, delete.

/// A document to ingest. Its embedding comes as a JSON array of numbers (`embedding`), or as
/// `embedding_b64`: standard base64 of the little-endian IEEE-754 float32 components, 4 bytes
/// each (about a third of the bytes, and no decimal parsing: the fast form for bulk ingest).
/// Exactly one of the two.
public struct NewDocumentBody: Codable, Sendable {
    public var id: String
    public var tenant: String?
    public var text: String
    public var embedding: [Float]
    public var metadata: JSONValue?
    /// How `embedding` is written when this body is encoded (decoding accepts either).
    public var embeddingEncoding: EmbeddingEncoding

    public enum EmbeddingEncoding: Sendable { case array, base64 }

    enum CodingKeys: String, CodingKey { case id, tenant, text, embedding, metadata, embeddingBase64 = "embedding_b64" }

    public init(id: String, tenant: String? = nil, text: String, embedding: [Float], metadata: JSONValue? = nil,
                embeddingEncoding: EmbeddingEncoding = .array) {
        self.id = id
        self.tenant = tenant
        self.text = text
        self.embedding = embedding
        self.metadata = metadata
        self.embeddingEncoding = embeddingEncoding
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        tenant = try container.decodeIfPresent(String.self, forKey: .tenant)
        text = try container.decode(String.self, forKey: .text)
        metadata = try container.decodeIfPresent(JSONValue.self, forKey: .metadata)
        let array = try container.decodeIfPresent([Float].self, forKey: .embedding)
        let encoded = try container.decodeIfPresent(String.self, forKey: .embeddingBase64)
        switch (array, encoded) {
        case (let array?, nil):
            embedding = array
            embeddingEncoding = .array
        case (nil, let encoded?):
            guard let floats = EmbeddingBase64.decode(encoded) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .embeddingBase64, in: container,
                    debugDescription: "not base64 of little-endian float32 values (standard alphabet, a multiple of 4 bytes once decoded)")
            }
            embedding = floats
            embeddingEncoding = .base64
        case (.some, .some):
            throw DecodingError.dataCorruptedError(forKey: .embeddingBase64, in: container,
                                                   debugDescription: "give embedding or embedding_b64, not both")
        case (nil, nil):
            throw DecodingError.keyNotFound(CodingKeys.embedding, DecodingError.Context(
                codingPath: container.codingPath, debugDescription: "a document needs embedding or embedding_b64"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(tenant, forKey: .tenant)
        try container.encode(text, forKey: .text)
        switch embeddingEncoding {
        case .array: try container.encode(embedding, forKey: .embedding)
        case .base64: try container.encode(EmbeddingBase64.encode(embedding), forKey: .embeddingBase64)
        }
        try container.encodeIfPresent(metadata, forKey: .metadata)
    }
}

/// `embedding_b64`: float32 components, little-endian, in standard base64.
public enum EmbeddingBase64 {
    public static func encode(_ embedding: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(embedding.count * 4)
        for value in embedding {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }

    /// The components, or nil when `text` is not base64 or its bytes are not whole float32s.
    public static func decode(_ text: String) -> [Float]? {
        guard let data = Data(base64Encoded: text), data.count % 4 == 0 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
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

