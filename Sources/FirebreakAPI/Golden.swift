import Foundation

// `/v1/collections/{name}/golden-queries`: known-answer queries every rebuild is held to.

public struct GoldenQueryBody: Codable, Sendable {
    public var tenant: String
    public var vector: [Float]
    public var relevant: [String]

    public init(tenant: String, vector: [Float], relevant: [String]) {
        self.tenant = tenant
        self.vector = vector
        self.relevant = relevant
    }
}

public struct GoldenQueriesBody: Codable, Sendable {
    public var queries: [GoldenQueryBody]

    public init(queries: [GoldenQueryBody]) {
        self.queries = queries
    }
}

public struct GoldenSummaryBody: Codable, Sendable {
    public var queries: Int
    public var baselineMRR: Double
    public var byTenant: [String: Double]
    public var setAt: String?
    enum CodingKeys: String, CodingKey { case queries, baselineMRR = "baseline_mrr", byTenant = "by_tenant", setAt = "set_at" }

    public init(queries: Int, baselineMRR: Double, byTenant: [String: Double], setAt: String? = nil) {
        self.queries = queries
        self.baselineMRR = baselineMRR
        self.byTenant = byTenant
        self.setAt = setAt
    }
}
