import VectorMath

/// Lloyd's k-means with the assignment step through BLAS (`ExactSearch` with k = 1), seeded.
/// Used for centroid query samples and for the topic clusters of the spread detector.
public enum KMeans {
    public static let iterationsMax = 25
    /// Rows used to fit (a seeded subsample of larger collections: centroids settle long before).
    public static let trainingRowsMax = 50_000

    /// `clusters` centroids of `data` (rows prepared for `metric`; cosine centroids are
    /// re-normalised every iteration).
    public static func fit(_ data: Matrix, clusters: Int, metric: Metric, seed: UInt64,
                           iterations: Int = 10, trainingRows: Int = trainingRowsMax) throws(HubScanError) -> Matrix {
        guard clusters >= 1, clusters <= data.rows else {
            throw HubScanError(.invalidParameter, "k-means needs 1...\(data.rows) clusters (got \(clusters))")
        }
        var rng = SplitMix64(seed: seed)
        let training = RowSampling.subsample(data, rows: min(data.rows, trainingRowsMax, max(trainingRows, clusters)), rng: &rng)
        var centroids = RowSampling.subsample(training, rows: clusters, rng: &rng)
        for _ in 0..<min(iterations, iterationsMax) {
            let assignment = try assign(training, to: centroids, metric: metric)
            centroids = recompute(training, assignment: assignment, previous: centroids, metric: metric)
        }
        return centroids
    }

    /// The nearest centroid of every row.
    public static func assign(_ data: Matrix, to centroids: Matrix, metric: Metric) throws(HubScanError) -> [Int] {
        do {
            let result = try ExactSearch.search(queries: data, base: centroids, k: 1, metric: metric)
            return (0..<data.rows).map { Int(result.neighbors(ofQuery: $0).first?.id ?? 0) }
        } catch {
            throw HubScanError(.dimensionMismatch, error.message)
        }
    }

    private static func recompute(_ data: Matrix, assignment: [Int], previous: Matrix, metric: Metric) -> Matrix {
        let d = data.dimension, c = previous.rows
        var sums = [Double](repeating: 0, count: c * d)
        var counts = [Int](repeating: 0, count: c)
        data.withUnsafeRows { rows in
            for (row, cluster) in assignment.enumerated() {
                counts[cluster] += 1
                for j in 0..<d { sums[cluster * d + j] += Double(rows[row * d + j]) }
            }
        }
        var values = previous.storage
        for cluster in 0..<c where counts[cluster] > 0 {
            var norm = 0.0
            for j in 0..<d {
                let mean = sums[cluster * d + j] / Double(counts[cluster])
                values[cluster * d + j] = Float(mean)
                norm += mean * mean
            }
            if metric == .cosine, norm > 0 {
                let inverse = Float(1 / norm.squareRoot())
                for j in 0..<d { values[cluster * d + j] *= inverse }
            }
        }
        return try! Matrix(rows: c, dimension: d, storage: values)
    }
}
