import VectorMath

/// Where a scan's queries come from.
public enum SampleKind: String, Sendable, Codable, CaseIterable {
    /// Documents drawn as queries (their own row is excluded from their top-k).
    case documents
    /// k-means centroids of the collection.
    case centroids
    /// Half documents, half centroids, plus every real query given.
    case mixed
    /// Real query vectors only (from a file now; later the service's reservoir).
    case queries
}

/// A scan's query sample: the vectors and, per row, the document it was drawn from (if any).
public struct QuerySample: Sendable {
    public let vectors: Matrix
    /// For a query drawn from document `r`, `r` (excluded from its own top-k); otherwise nil.
    public let sourceRows: [Int?]
    /// How many of the queries are real user queries.
    public let realQueryCount: Int

    /// Lloyd iterations for centroid samples: queries need to sit in the data's dense regions,
    /// not at converged centroids, and k-means with thousands of centroids would otherwise
    /// cost more than the scan itself.
    public static let centroidIterations = 4
    /// Training rows per centroid for centroid samples (4: 20,000 rows for 5,000 centroids).
    /// The queries need dense regions, not converged centroids; at 100k × 384 this cut the
    /// mixed sample's k-means from 8 s to about 3 s.
    public static let centroidTrainingRowsPerCentroid = 4

    /// Draws `size` queries of `kind`. Real queries, when given, are always part of a
    /// `documents`, `centroids` or `mixed` sample too: hubs optimised against real traffic are
    /// invisible to document and centroid samples (the reference scanner's second trap).
    public static func draw(_ kind: SampleKind, size: Int, embeddings: Matrix, realQueries: Matrix?,
                            metric: Metric, seed: UInt64) throws(HubScanError) -> QuerySample {
        guard size >= 1 else { throw HubScanError(.invalidParameter, "sample size must be at least 1 (got \(size))") }
        if let realQueries, realQueries.dimension != embeddings.dimension {
            throw HubScanError(.dimensionMismatch,
                               "queries have dimension \(realQueries.dimension), embeddings \(embeddings.dimension)")
        }
        var rng = SplitMix64(seed: seed)
        let real = realQueries.map { RowSampling.subsample($0, rows: min($0.rows, size), rng: &rng) }
        switch kind {
        case .queries:
            guard let real else {
                throw HubScanError(.invalidParameter, "sample 'queries' needs real query vectors (--queries)")
            }
            return QuerySample(vectors: real, sourceRows: Array(repeating: nil, count: real.rows), realQueryCount: real.rows)
        case .documents:
            return combine(documents(size, embeddings, &rng), real: real)
        case .centroids:
            let count = min(size, embeddings.rows)
            let centroids = try KMeans.fit(embeddings, clusters: count, metric: metric, seed: rng.next(),
                                           iterations: centroidIterations,
                                           trainingRows: count * centroidTrainingRowsPerCentroid)
            return combine(QuerySample(vectors: centroids, sourceRows: Array(repeating: nil, count: centroids.rows),
                                       realQueryCount: 0), real: real)
        case .mixed:
            let half = max(1, size / 2)
            let count = min(half, embeddings.rows)
            let centroids = try KMeans.fit(embeddings, clusters: count, metric: metric, seed: rng.next(),
                                           iterations: centroidIterations,
                                           trainingRows: count * centroidTrainingRowsPerCentroid)
            let drawn = documents(size - half, embeddings, &rng)
            let both = concatenate(drawn, QuerySample(vectors: centroids, sourceRows: Array(repeating: nil, count: centroids.rows),
                                                      realQueryCount: 0))
            return combine(both, real: real)
        }
    }

    private static func documents(_ count: Int, _ embeddings: Matrix, _ rng: inout SplitMix64) -> QuerySample {
        let rows = RowSampling.distinctRows(min(count, embeddings.rows), of: embeddings.rows, rng: &rng)
        return QuerySample(vectors: RowSampling.gather(embeddings, rows: rows), sourceRows: rows, realQueryCount: 0)
    }

    private static func combine(_ sample: QuerySample, real: Matrix?) -> QuerySample {
        guard let real else { return sample }
        return concatenate(sample, QuerySample(vectors: real, sourceRows: Array(repeating: nil, count: real.rows),
                                               realQueryCount: real.rows))
    }

    private static func concatenate(_ a: QuerySample, _ b: QuerySample) -> QuerySample {
        let vectors = try! Matrix(rows: a.vectors.rows + b.vectors.rows, dimension: a.vectors.dimension,
                                  storage: a.vectors.storage + b.vectors.storage)
        return QuerySample(vectors: vectors, sourceRows: a.sourceRows + b.sourceRows,
                           realQueryCount: a.realQueryCount + b.realQueryCount)
    }
}
