/// Seeded synthetic data for tests, drills and quick benchmarks: a mixture of Gaussian clusters,
/// the shape real embedding collections have (topics), unlike uniform noise.
public enum SyntheticData {
    /// `rows` points from `clusters` Gaussian clusters (centres N(0, spread²), points N(centre, 1)).
    /// Queries drawn with the same `seed` and a different `stream` come from the same mixture.
    public static func gaussianClusters(rows: Int, dimension: Int, clusters: Int, seed: UInt64,
                                        stream: UInt64 = 0, spread: Float = 2, normalized: Bool = false) -> Matrix {
        precondition(rows >= 0 && dimension > 0 && clusters > 0, "synthetic data needs a valid shape")
        var centerRNG = SplitMix64(seed: seed)
        let centers = (0..<(clusters * dimension)).map { _ in centerRNG.nextGaussian() * spread }
        var rng = SplitMix64(seed: seed &+ 0x9E37 &* (stream &+ 1))
        var values = [Float](repeating: 0, count: rows * dimension)
        for r in 0..<rows {
            let c = Int(rng.next() % UInt64(clusters))
            for j in 0..<dimension { values[r * dimension + j] = centers[c * dimension + j] + rng.nextGaussian() }
        }
        var matrix = Matrix(zeroRows: 0, dimension: dimension)
        do {
            matrix = try Matrix(rows: rows, dimension: dimension, storage: values)
            if normalized { try matrix.normalizeRows() }
        } catch {
            preconditionFailure("synthetic data is finite and well-shaped: \(error)")
        }
        return matrix
    }
}
