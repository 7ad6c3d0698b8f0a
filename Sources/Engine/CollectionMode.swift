/// What a collection (or one tenant partition of it) can do right now, derived from its flags
/// and whether its graph is being rebuilt. Pure: tested without I/O.
///
/// - `serving`: vector, lexical and hybrid search; ingestion allowed.
/// - `frozen`: FF_INDEX_FREEZE is on: searches are served, ingestion is refused.
/// - `rebuilding`: the graph is being rebuilt: vector and hybrid requests are answered by
///   the BM25 fallback and marked degraded; ingestion is refused.
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

    /// The search mode actually used for a requested one, and whether that is a degradation.
    public func route(_ requested: SearchMode) -> (used: SearchMode, degraded: Bool) {
        guard self == .rebuilding, requested != .lexical else { return (requested, false) }
        return (.lexical, true)
    }

    /// What a degraded response tells its reader.
    public static let rebuildingNotice =
        "Document collection index is rebuilding; results come from keyword search and may be less complete."
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
