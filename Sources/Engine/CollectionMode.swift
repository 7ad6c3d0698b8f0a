/// What a collection (or one tenant partition of it) can do right now, derived from its flags
/// and whether its graph is being rebuilt. Pure: tested without I/O.
///
/// - `serving`: vector, lexical and hybrid search; ingestion allowed.
/// - `frozen`: FF_INDEX_FREEZE is on: searches are served, ingestion is refused.
/// - `rebuilding`: the graph is being rebuilt: it is not trusted, so vector requests are
///   answered by an exact scan of the admitted vectors, hybrid ones by that scan fused with
///   BM25, lexical ones by BM25 as always; vector and hybrid answers are marked degraded (slower,
///   never empty while servable documents exist); ingestion is refused.
public enum CollectionMode: String, Sendable, Equatable, Codable {
    case serving
    case rebuilding
    case frozen

    public static func of(frozen: Bool, rebuilding: Bool) -> CollectionMode {
        if rebuilding { return .rebuilding }
        return frozen ? .frozen : .serving
    }

    /// Whether new documents may enter.
    public var acceptsIngest: Bool { self == .serving }

    /// How a requested search mode is answered: whether the graph is bypassed for an exact
    /// scan, and whether that is a degradation the response reports.
    public func route(_ requested: SearchMode) -> (used: SearchMode, exactVectors: Bool, degraded: Bool) {
        guard self == .rebuilding, requested != .lexical else { return (requested, false, false) }
        return (requested, true, true)
    }

    /// What a degraded response tells its reader.
    public static let rebuildingNotice =
        "Document collection index is rebuilding; results come from keyword search and an exact vector scan, and may be slower or less complete."
}

/// How a search ranks documents.
public enum SearchMode: String, Sendable, Equatable, Codable, CaseIterable {
    case vector
    case lexical
    case hybrid
}

/// The feature flags the runbooks name.
public enum FeatureFlag: String, Sendable, Equatable, Codable, CaseIterable {
    /// Ingestion is refused (for one tenant, or the whole collection).
    case indexFreeze = "FF_INDEX_FREEZE"
    /// A tenant's searches and ingestion are refused.
    case tenantBlock = "FF_TENANT_BLOCK"
}
