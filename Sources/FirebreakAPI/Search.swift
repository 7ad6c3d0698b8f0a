import Foundation

// `POST /v1/collections/{name}/search`.

public struct SearchBody: Codable, Sendable {
    public var mode: String?
    public var vector: [Float]?
    public var query: String?
    public var k: Int?
    public var tenant: String?
    public var ef: Int?
    /// Answer only once this replica has applied the change at this position (a write's `seq`).
    public var minSeq: Int64?

    enum CodingKeys: String, CodingKey { case mode, vector, query, k, tenant, ef, minSeq = "min_seq" }

    public init(mode: String? = nil, vector: [Float]? = nil, query: String? = nil, k: Int? = nil, tenant: String? = nil,
                ef: Int? = nil, minSeq: Int64? = nil) {
        self.mode = mode
        self.vector = vector
        self.query = query
        self.k = k
        self.tenant = tenant
        self.ef = ef
        self.minSeq = minSeq
    }
}

public struct SearchResultItem: Codable, Sendable {
    public var id: String
    public var score: Double
    public var text: String
    public var tenant: String

    public init(id: String, score: Double, text: String, tenant: String) {
        self.id = id
        self.score = score
        self.text = text
        self.tenant = tenant
    }
}

public struct SearchResultBody: Codable, Sendable {
    public var modeUsed: String
    public var degraded: Bool
    public var notice: String?
    public var snapshot: String?
    public var results: [SearchResultItem]
    public var tookMs: Double
    public var emptyReason: String?
    enum CodingKeys: String, CodingKey {
        case degraded, notice, snapshot, results
        case modeUsed = "mode_used", tookMs = "took_ms", emptyReason = "empty_reason"
    }

    public init(modeUsed: String, degraded: Bool, notice: String? = nil, snapshot: String? = nil,
                results: [SearchResultItem], tookMs: Double, emptyReason: String? = nil) {
        self.modeUsed = modeUsed
        self.degraded = degraded
        self.notice = notice
        self.snapshot = snapshot
        self.results = results
        self.tookMs = tookMs
        self.emptyReason = emptyReason
    }
}

