import Engine

/// Every limit the HTTP layer enforces, named, with its default. Configurable through
/// `firebreak serve` options; documented in the README and openapi.json.
public struct ServerLimits: Sendable, Equatable {
    /// Largest request body; larger is 413. 1,000 documents of 384 floats fit with room.
    public var bodyBytesMax = 16 << 20
    /// Requests served at once; more get 503 with Retry-After.
    public var concurrentRequestsMax = 512
    /// Documents per ingest request (the engine's own limit).
    public var ingestBatchMax = LiveCollection.ingestBatchMax
    /// Ids per quarantine or release request.
    public var quarantineIDsMax = LiveCollection.quarantineIDsMax
    /// k and ef of a search, and the query text length.
    public var kMax = SearchLimits.kMax
    public var efMax = SearchLimits.efMax
    public var queryBytesMax = SearchLimits.queryBytesMax
    /// Length of an Idempotency-Key.
    public var idempotencyKeyBytesMax = 255

    public init() {}
}
