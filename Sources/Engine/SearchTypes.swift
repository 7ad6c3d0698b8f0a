/// A search as the engine receives it (already decoded from the wire).
public struct SearchRequest: Sendable {
    public var mode: SearchMode
    public var vector: [Float]?
    public var query: String?
    public var k: Int
    /// The tenant whose partition is searched; nil (admin tools only) merges every partition.
    public var tenant: String?
    public var ef: Int?
    /// The W3C trace id the caller sent (retrieval log); a random one is made up when nil.
    public var traceID: String?

    public init(mode: SearchMode, vector: [Float]? = nil, query: String? = nil, k: Int = 10,
                tenant: String? = nil, ef: Int? = nil, traceID: String? = nil) {
        self.traceID = traceID
        self.mode = mode
        self.vector = vector
        self.query = query
        self.k = k
        self.tenant = tenant
        self.ef = ef
    }
}

/// Limits on a search, named so that the API documents them.
public enum SearchLimits {
    public static let kMax = 1_000
    public static let efMax = 10_000
    public static let queryBytesMax = 64 << 10
}

/// One result: the document and why it ranked (a similarity, a BM25 score or a fused score).
public struct SearchHit: Sendable, Equatable {
    public let rowID: Int64
    public let externalID: String
    public let tenant: String
    public let score: Double
    public let text: String
}

/// What a search answered and how.
public struct SearchResponse: Sendable {
    public var modeUsed: SearchMode
    /// True when a partition answered from the BM25 fallback instead of the mode asked for.
    public var degraded: Bool
    public var notice: String?
    public var hits: [SearchHit]
    /// Why a lexical result is empty, when it is ("only_stop_words", …).
    public var emptyReason: String?
}

/// A document as the engine keeps it in memory for results.
struct DocumentEntry: Sendable {
    let rowID: Int64
    let externalID: String
    let tenant: String
    let text: String

    var key: DocumentKey { DocumentKey(tenant: tenant, externalID: externalID) }
}

/// A document's name: its external id within its tenant. Ids are unique per tenant, so two
/// tenants may use one id and neither learns of the other's (issue 17).
struct DocumentKey: Hashable, Sendable {
    let tenant: String
    let externalID: String
}
