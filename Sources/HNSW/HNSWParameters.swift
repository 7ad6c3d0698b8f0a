import VectorMath

/// The shape of an HNSW graph. `m` is the degree bound on upper levels (level 0 allows 2·m);
/// `efConstruction` the candidate list while building; `efSearch` the default candidate list
/// while searching (raised to k when smaller).
public struct HNSWParameters: Sendable, Codable, Equatable {
    public var dimension: Int
    public var metric: Metric
    public var m: Int
    public var efConstruction: Int
    public var efSearch: Int
    /// Seed of the level generator: the same seed and insertion order give the same graph
    /// in a single-threaded build.
    public var seed: UInt64

    public static let dimensionMax = 4_096
    public static let mRange = 2...128
    public static let efMax = 10_000
    /// Internal ids are UInt32 with UInt32.max reserved as "none".
    public static let countMax = Int(UInt32.max) - 1

    public init(dimension: Int, metric: Metric, m: Int = 16, efConstruction: Int = 200,
                efSearch: Int = 64, seed: UInt64 = 100) {
        self.dimension = dimension
        self.metric = metric
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
    }

    /// Level-0 degree bound (2·M, as in the paper and hnswlib).
    public var m0: Int { 2 * m }

    /// Throws `invalidParameter` naming the first parameter out of range.
    public func validate() throws(HNSWError) {
        guard (1...Self.dimensionMax).contains(dimension) else {
            throw HNSWError(.invalidParameter, "dimension must be in 1...\(Self.dimensionMax) (got \(dimension))")
        }
        guard Self.mRange.contains(m) else {
            throw HNSWError(.invalidParameter, "m must be in \(Self.mRange) (got \(m))")
        }
        guard (1...Self.efMax).contains(efConstruction) else {
            throw HNSWError(.invalidParameter, "ef_construction must be in 1...\(Self.efMax) (got \(efConstruction))")
        }
        guard (1...Self.efMax).contains(efSearch) else {
            throw HNSWError(.invalidParameter, "ef_search must be in 1...\(Self.efMax) (got \(efSearch))")
        }
    }
}

/// One search hit: the caller's label, the internal id, and the distance (smaller is closer).
public struct HNSWHit: Sendable, Equatable {
    public let label: UInt64
    public let id: UInt32
    public let distance: Float
}
