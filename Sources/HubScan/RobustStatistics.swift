/// Median / MAD robust z-scores, as in the HubScan paper, with one correction.
///
/// `z = 0.6745 · (x − median) / MAD`. When the sample gives fewer query × k slots than there are
/// documents, most documents are never hit: median = 0 and MAD = 0, and the formula as written
/// flags every document hit once (the reference scanner's trap). Firebreak floors the spread at
/// what chance alone produces: with λ = slots / documents hits expected per document, a count
/// has standard deviation ≈ √λ (Poisson), and never less than `scaleFloor` hits. So the
/// denominator is `max(MAD / 0.6745, √λ, scaleFloor)`, expressed in the same units as x.
public enum RobustStatistics {
    /// The smallest spread (in hits) a z-score divides by: one stray hit is never 5 σ.
    public static let scaleFloor = 1.0
    /// 0.6745 = Φ⁻¹(0.75): MAD / 0.6745 estimates σ for a normal distribution.
    public static let madToSigma = 0.6745

    /// The median of `values` (mean of the middle two for an even count); 0 for none.
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Location and spread of a score distribution, with the floored spread used for z.
    public struct Summary: Sendable, Codable, Equatable {
        public let median: Double
        public let mad: Double
        /// The σ estimate z divides by: max(MAD / 0.6745, √expected, floor).
        public let scale: Double
        /// True when MAD alone would have been 0 or below the floor.
        public let scaleWasFloored: Bool
    }

    /// Summarises `values`; `expectedPerItem` is the chance level λ (hits per document).
    public static func summary(_ values: [Double], expectedPerItem: Double) -> Summary {
        let med = median(values)
        let mad = median(values.map { abs($0 - med) })
        let chance = max(expectedPerItem, 0).squareRoot()
        let fromMAD = mad / madToSigma
        let scale = max(fromMAD, chance, scaleFloor)
        return Summary(median: med, mad: mad, scale: scale, scaleWasFloored: scale > fromMAD)
    }

    /// z = (x − median) / scale for every value.
    public static func zScores(_ values: [Double], summary: Summary) -> [Double] {
        values.map { ($0 - summary.median) / summary.scale }
    }
}
