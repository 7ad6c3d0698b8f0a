import Engine

/// Every limit the HTTP layer enforces, named, with its default; a refusal names the limit.
/// `firebreak serve` exposes `--body-bytes-max` and `--concurrent-requests-max`; an embedder
/// sets any of them in `FirebreakServer.Configuration.limits`. The engine-bounded ones may be
/// set stricter than the engine's, never looser (`clampedToEngine`). Documented in the README
/// and openapi.json.
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

    /// The limits with every engine-bounded one clamped to the engine's own (the HTTP layer
    /// may be stricter, never looser).
    public var clampedToEngine: ServerLimits {
        var limits = self
        limits.ingestBatchMax = min(ingestBatchMax, LiveCollection.ingestBatchMax)
        limits.quarantineIDsMax = min(quarantineIDsMax, LiveCollection.quarantineIDsMax)
        limits.kMax = min(kMax, SearchLimits.kMax)
        limits.efMax = min(efMax, SearchLimits.efMax)
        limits.queryBytesMax = min(queryBytesMax, SearchLimits.queryBytesMax)
        return limits
    }
}
