import VectorMath

/// The perturbation-stability detector. An adversarial hub sits where many queries converge,
/// so it stays in their top-k when each query is nudged a little; an honest document that a
/// query reached by chance drops out. Every sampled query is moved once, in a seeded random
/// direction, by `relativeRadius` of the distance to its k-th neighbour, and searched again.
/// A document's stable hits are Σ over queries of min(rank weight before, rank weight after),
/// counted only when it is in both top-k lists.
public enum Stability {
    /// How far each query moves, as a fraction of its k-th neighbour's (Euclidean) distance.
    public static let relativeRadius: Float = 0.5

    /// The sample, every query moved once (prepared for `metric`: unit length for cosine).
    /// A query with fewer than k neighbours keeps its place.
    static func perturbed(_ sample: QuerySample, hits: HitCounts, metric: Metric, seed: UInt64) -> QuerySample {
        let d = sample.vectors.dimension
        var values = sample.vectors.storage
        var rng = SplitMix64(seed: seed)
        for q in 0..<sample.vectors.rows {
            let kth = hits.kthDistance[q]
            guard kth.isFinite else { continue }
            let radius = relativeRadius * euclidean(fromDistance: kth, metric: metric)
            let noise = (0..<d).map { _ in rng.nextGaussian() }
            let length = noise.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            guard length > 0 else { continue }
            for j in 0..<d { values[q * d + j] += radius * noise[j] / length }
        }
        var vectors = try! Matrix(rows: sample.vectors.rows, dimension: d, storage: values)
        // A moved unit vector has norm ≈ 1 ± radius, never 0; should one be, it stays unnormalised.
        if metric == .cosine { try? vectors.normalizeRows() }
        return QuerySample(vectors: vectors, sourceRows: sample.sourceRows, realQueryCount: sample.realQueryCount)
    }

    /// Σ min(1/(rank+1), 1/(rank'+1)) per unit (a document, or a group of near-duplicates at
    /// its best-ranked member) over queries whose top-k holds it both times. Indexed by row; a
    /// row's value is its unit's.
    static func stableHits(original: HitCounts, perturbed: HitCounts, units: NearDuplicates, own: [Int?]) -> [Double] {
        precondition(original.k == perturbed.k && original.topRows.count == perturbed.topRows.count, "one sample, two searches")
        let k = original.k
        var stable = [Double](repeating: 0, count: units.unitOf.count)
        for q in 0..<(original.topRows.count / k) {
            let after = units.bestRanks(perturbed.topRows, k: k, query: q, own: own[q])
            for (unit, rank) in units.bestRanks(original.topRows, k: k, query: q, own: own[q]) {
                guard let rankAfter = after.first(where: { $0.unit == unit })?.rank else { continue }
                stable[unit] += 1 / Double(max(rank, rankAfter) + 1)
            }
        }
        return units.unitOf.map { stable[$0] }
    }

    /// The straight-line length behind a metric's distance (squared L2; 1 − cos for unit vectors).
    private static func euclidean(fromDistance distance: Float, metric: Metric) -> Float {
        switch metric {
        case .l2: max(0, distance).squareRoot()
        case .cosine, .innerProduct: (2 * max(0, distance)).squareRoot()
        }
    }
}
