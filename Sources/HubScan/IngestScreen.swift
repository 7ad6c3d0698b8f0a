import VectorMath

/// Screens new vectors before they are served: how many sampled queries would each new vector
/// enter the top-k of (its distance beats the query's current k-th distance), placed on the
/// collection's hit distribution as a z-score. One sgemm of sample × batch.
public struct IngestScreen: Sendable {
    public let sample: Matrix
    public let kthDistance: [Float]
    public let metric: Metric
    /// The collection's plain-count distribution the screen's counts are compared with.
    public let summary: RobustStatistics.Summary

    /// One screened row: the queries it would enter the top-k of, and that count as a z-score.
    public struct Verdict: Sendable, Codable, Equatable {
        public let row: Int
        public let wouldEnterTopK: Int
        public let z: Double
    }

    public init(sample: QuerySample, hits: HitCounts, metric: Metric) {
        self.sample = sample.vectors
        kthDistance = hits.kthDistance
        self.metric = metric
        summary = RobustStatistics.summary(hits.counts, expectedPerItem: hits.chanceCounts)
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
        for q in 0..<sample.rows {
            let bar = kthDistance[q]
            for j in 0..<batch.rows {
                let distance = metric.distance(fromDot: scores[q * batch.rows + j],
                                               normA: queryNorms[q], normB: batchNorms[j])
                if distance < bar { entered[j] += 1 }
            }
        }
        return entered.enumerated().map { row, count in
            Verdict(row: row, wouldEnterTopK: count, z: (Double(count) - summary.median) / summary.scale)
        }
    }

    private func norms(_ m: Matrix) -> [Float] {
        guard metric == .l2 else { return Array(repeating: 0, count: m.rows) }
        return (0..<m.rows).map { r in m.withUnsafeRows { Kernels.dot($0 + r * m.dimension, $0 + r * m.dimension, m.dimension) } }
    }
}
