import VectorMath

/// Screens new vectors before they are served: for each sampled query, whether a new vector
/// would enter its top-k and at which rank, accumulated rank-weighted (1/(rank+1)) exactly as
/// the scan's hubness score is, and placed on the collection's rank-weighted hit distribution
/// as a z-score (the same √ scale and spread), so the screen's z and the scan's hubness z share
/// one threshold. One sgemm of
/// sample × batch.
public struct IngestScreen: Sendable {
    public let sample: Matrix
    public let kthDistance: [Float]
    /// Each sampled query's top-k distances in rank order (`q * k + rank`).
    public let topDistances: [Float]
    public let k: Int
    public let metric: Metric
    /// The collection's rank-weighted hit distribution (the scan's hubness summary).
    public let summary: RobustStatistics.Summary
    /// The real queries' detector, as in the scan: the first sample row that is a real query,
    /// and their hit distribution (nil when the scan had too few real queries).
    public let real: (firstRow: Int, summary: RobustStatistics.Summary)?

    /// One screened row: the queries it would enter the top-k of, its rank-weighted hits, and
    /// those as a z-score.
    public struct Verdict: Sendable, Codable, Equatable {
        public let row: Int
        public let wouldEnterTopK: Int
        public let rankWeightedHits: Double
        public let z: Double
    }

    /// `summary`: the distribution to place a new vector on; by default the rank-weighted hits
    /// of `hits` per document. A scan passes its own hubness summary (taken over units, with
    /// near-duplicate groups counted once), so the screen and the scan share one scale.
    /// `real`: the scan's real-query detector, so a hub aimed at real traffic is held at the z
    /// the scan would flag it at (`z` is the higher of the two, as in `DetectorScores.z`).
    public init(sample: QuerySample, hits: HitCounts, metric: Metric, summary: RobustStatistics.Summary? = nil,
                real: (firstRow: Int, summary: RobustStatistics.Summary)? = nil) {
        precondition(real.map { (0...sample.vectors.rows).contains($0.firstRow) } ?? true, "real queries are sample rows")
        self.real = real
        self.sample = sample.vectors
        kthDistance = hits.kthDistance
        topDistances = hits.topDistances
        k = hits.k
        self.metric = metric
        self.summary = summary ?? RobustStatistics.summary(hits.rankWeighted, expectedPerItem: hits.chanceRankWeighted,
                                                           transform: HubScanner.hubnessTransform)
    }

    /// Scores a batch of new vectors (prepared for the metric: unit length for cosine).
    public func screen(_ batch: Matrix) throws(HubScanError) -> [Verdict] {
        guard batch.dimension == sample.dimension else {
            throw HubScanError(.dimensionMismatch, "new vectors have dimension \(batch.dimension), collection \(sample.dimension)")
        }
        if let row = batch.firstNonFiniteRow() {
            throw HubScanError(.nonFiniteValue, "new vector \(row) contains NaN or infinity")
        }
        guard batch.rows > 0, sample.rows > 0 else { return [] }
        var scores = [Float](repeating: 0, count: sample.rows * batch.rows)
        sample.withUnsafeRows { q in
            batch.withUnsafeRows { v in
                scores.withUnsafeMutableBufferPointer {
                    BLAS.dotProducts(q, rowsA: sample.rows, v, rowsB: batch.rows, dimension: sample.dimension,
                                     into: $0.baseAddress!)
                }
            }
        }
        let queryNorms = norms(sample), batchNorms = norms(batch)
        var entered = [Int](repeating: 0, count: batch.rows)
        var weighted = [Double](repeating: 0, count: batch.rows)
        var weightedReal = [Double](repeating: 0, count: batch.rows)
        let firstReal = real?.firstRow ?? sample.rows
        for q in 0..<sample.rows {
            let bar = kthDistance[q]
            let ranked = topDistances[(q * k)..<(q * k + k)]
            for j in 0..<batch.rows {
                let distance = metric.distance(fromDot: scores[q * batch.rows + j],
                                               normA: queryNorms[q], normB: batchNorms[j])
                guard distance < bar else { continue }
                entered[j] += 1
                let weight = 1 / Double(ranked.prefix { $0 <= distance }.count + 1)
                weighted[j] += weight
                if q >= firstReal { weightedReal[j] += weight }
            }
        }
        return (0..<batch.rows).map { row in
            Verdict(row: row, wouldEnterTopK: entered[row], rankWeightedHits: weighted[row],
                    z: max(summary.z(weighted[row]), real.map { $0.summary.z(weightedReal[row]) } ?? -.infinity))
        }
    }

    private func norms(_ m: Matrix) -> [Float] {
        guard metric == .l2 else { return Array(repeating: 0, count: m.rows) }
        return (0..<m.rows).map { r in m.withUnsafeRows { Kernels.dot($0 + r * m.dimension, $0 + r * m.dimension, m.dimension) } }
    }
}
