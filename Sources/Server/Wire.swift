import Engine
import Foundation

// The JSON contract (see openapi.json). Field names are the wire's snake_case, declared
// explicitly: no key strategy, so metadata keys pass through untouched.

struct HNSWBody: Codable, Sendable {
    var m: Int?
    var efConstruction: Int?
    var efSearch: Int?
    enum CodingKeys: String, CodingKey { case m, efConstruction = "ef_construction", efSearch = "ef_search" }
}

struct CreateCollectionBody: Codable, Sendable {
    var name: String
    var dimension: Int
    var metric: String
    var hnsw: HNSWBody?
}

struct FlagBody: Codable, Sendable {
    var flag: String
    var tenant: String?
}

struct LastScanBody: Codable, Sendable {
    var at: String
    var maxZ: Double
    enum CodingKeys: String, CodingKey { case at, maxZ = "max_z" }
}

struct CollectionBody: Codable, Sendable {
    var name: String
    var dimension: Int
    var metric: String
    var hnsw: HNSWBody
    var mode: String
    var activeSnapshot: String?
    var documents: Int
    var quarantined: Int
    var tenants: [String]
    var flags: [FlagBody]
    var lastScan: LastScanBody?
    enum CodingKeys: String, CodingKey {
        case name, dimension, metric, hnsw, mode, documents, quarantined, tenants, flags
        case activeSnapshot = "active_snapshot", lastScan = "last_scan"
    }
}

struct CollectionListBody: Codable, Sendable {
    var collections: [CollectionBody]
}

struct NewDocumentBody: Codable, Sendable {
    var id: String
    var tenant: String?
    var text: String
    var embedding: [Float]
    var metadata: JSONValue?
}

struct IngestBody: Codable, Sendable {
    var documents: [NewDocumentBody]
}

struct IngestResultBody: Codable, Sendable {
    var ingested: Int
    var ids: [String]
    /// Documents the ingest screen scored at or above its threshold.
    var screened: [ScreenedBody]
    /// Those quarantined on arrival (an auto-contain schedule is enabled), and under which incident.
    var held: [String]
    var incidentID: String?
    enum CodingKeys: String, CodingKey { case ingested, ids, screened, held, incidentID = "incident_id" }
}

struct ScreenedBody: Codable, Sendable {
    var id: String
    var tenant: String
    var wouldEnterTopK: Int
    var z: Double
    var threshold: Double
    var scanID: Int64
    enum CodingKeys: String, CodingKey {
        case id, tenant, z, threshold, wouldEnterTopK = "would_enter_top_k", scanID = "scan_id"
    }
}

struct DocumentBody: Codable, Sendable {
    var id: String
    var tenant: String
    var text: String
    var embedding: [Float]
    var metadata: JSONValue
    var contentSHA256: String
    var ingestedAt: String
    enum CodingKeys: String, CodingKey {
        case id, tenant, text, embedding, metadata, contentSHA256 = "content_sha256", ingestedAt = "ingested_at"
    }
}

struct DeletedBody: Codable, Sendable {
    var id: String
    var deleted: Bool
}

struct SearchBody: Codable, Sendable {
    var mode: String?
    var vector: [Float]?
    var query: String?
    var k: Int?
    var tenant: String?
    var ef: Int?
    /// Answer only once this replica has applied the change at this position (a write's `seq`).
    var minSeq: Int64?

    enum CodingKeys: String, CodingKey { case mode, vector, query, k, tenant, ef, minSeq = "min_seq" }
}

struct SearchResultItem: Codable, Sendable {
    var id: String
    var score: Double
    var text: String
    var tenant: String
}

struct SearchResultBody: Codable, Sendable {
    var modeUsed: String
    var degraded: Bool
    var notice: String?
    var snapshot: String?
    var results: [SearchResultItem]
    var tookMs: Double
    var emptyReason: String?
    enum CodingKeys: String, CodingKey {
        case degraded, notice, snapshot, results
        case modeUsed = "mode_used", tookMs = "took_ms", emptyReason = "empty_reason"
    }
}

struct QuarantineBody: Codable, Sendable {
    var ids: [String]
    var reason: String
    var incidentID: String?
    var tenant: String?
    /// Per document id, a score that justified the action (a HubScan z), kept as evidence.
    var scores: [String: Double]?
    enum CodingKeys: String, CodingKey { case ids, reason, tenant, scores, incidentID = "incident_id" }
}

struct QuarantineResultBody: Codable, Sendable {
    var incidentID: String
    var quarantined: [String]
    var alreadyQuarantined: [String]
    enum CodingKeys: String, CodingKey {
        case quarantined, incidentID = "incident_id", alreadyQuarantined = "already_quarantined"
    }
}

struct ReleaseResultBody: Codable, Sendable {
    var incidentID: String
    var released: [String]
    var notQuarantined: [String]
    enum CodingKeys: String, CodingKey { case released, incidentID = "incident_id", notQuarantined = "not_quarantined" }
}

struct QuarantineEntryBody: Codable, Sendable {
    var id: String
    var tenant: String
    var incidentID: String
    var reason: String
    var quarantinedBy: String
    var quarantinedAt: String
    enum CodingKeys: String, CodingKey {
        case id, tenant, reason, incidentID = "incident_id", quarantinedBy = "quarantined_by", quarantinedAt = "quarantined_at"
    }
}

struct QuarantineListBody: Codable, Sendable {
    var entries: [QuarantineEntryBody]
}

struct SetFlagBody: Codable, Sendable {
    var enabled: Bool
    var incidentID: String?
    var tenant: String?
    var reason: String?
    enum CodingKeys: String, CodingKey { case enabled, tenant, reason, incidentID = "incident_id" }
}

struct FlagResultBody: Codable, Sendable {
    var flag: String
    var enabled: Bool
    var tenant: String?
    var incidentID: String
    enum CodingKeys: String, CodingKey { case flag, enabled, tenant, incidentID = "incident_id" }
}

struct CreateTokenBody: Codable, Sendable {
    var role: String
    var tenant: String?
}

struct TokenBody: Codable, Sendable {
    var token: String
    var role: String
    var tenant: String?
}
