/// Median / MAD robust z-scores, as in the HubScan paper, with three corrections that keep a
/// clean collection quiet at the default threshold.
///
/// The reference: `z = 0.6745 · (x − median) / MAD`. Its traps, and what Firebreak does:
/// 1. **Degenerate MAD.** When the sample gives fewer query × k slots than there are documents,
///    median = MAD = 0 and the formula flags every document hit once. The spread is floored
///    (`floor`), and never below what chance alone produces (√λ for λ expected hits).
/// 2. **Skew.** Hit counts are Poisson-like and the k-occurrence of high-dimensional data is
///    heavily right-skewed (natural hubs). On the raw scale a clean 20k-document collection
///    has hundreds of documents at z > 5. Hubness is therefore scored on the square-root scale
///    (`Transform.sqrt`, Anscombe's variance-stabilising transform for counts).
/// 3. **Natural tail.** MAD sees only the middle of the distribution. The spread is also at
///    least what the 99.5th percentile implies for a normal distribution:
///    `(p99.5 − median) / 2.5758`. Up to 0.5 % of documents can be hubs without moving it, so
///    25 planted hubs in 5,000 or more documents do not mask each other.
/// So `z = (t(x) − median(t)) / max(MAD(t) / 0.6745, (p99.5(t) − median(t)) / 2.5758, floor, chance)`.
public enum RobustStatistics {
    /// 0.6745 = Φ⁻¹(0.75): MAD / 0.6745 estimates σ for a normal distribution.
    public static let madToSigma = 0.6745
    /// The quantile that anchors the tail spread, and Φ⁻¹ of it.
    public static let tailQuantile = 0.995
    public static let tailQuantileSigmas = 2.5758

    /// What scores are transformed with before the median, MAD and quantile are taken.
    public enum Transform: String, Sendable, Codable {
        case identity
        /// √x: variance-stabilising for counts (σ ≈ ½ whatever the mean).
        case sqrt

        public func apply(_ x: Double) -> Double {
            switch self {
            case .identity: x
            case .sqrt: max(0, x).squareRoot()
            }
        }

        /// The smallest spread z divides by, in transformed units: one stray hit is never 5 σ.
        var floor: Double {
            switch self {
            case .identity: 1.0
            case .sqrt: 0.5
            }
        }
    }

    /// The median of `values` (mean of the middle two for an even count); 0 for none.
    public static func median(_ values: [Double]) -> Double {
        quantile(values.sorted(), 0.5)
    }

    /// The `q`-quantile of sorted values (linear interpolation); 0 for none.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// Location and spread of a score distribution, with the floored spread used for z.
    public struct Summary: Sendable, Codable, Equatable {
        public let transform: Transform
        /// Median, MAD and tail quantile of the transformed values.
        public let median: Double
        public let mad: Double
        public let tail: Double
        /// The σ estimate z divides by: max(MAD / 0.6745, (tail − median) / 2.326, floor, chance).
        public let scale: Double
        /// True when MAD alone would have been 0 or below the scale used.
        public let scaleWasFloored: Bool

        /// The z-score of one raw value on this distribution.
        public func z(_ x: Double) -> Double { (transform.apply(x) - median) / scale }
    }

    /// Summarises `values`; `expectedPerItem` is the chance level λ (hits per document).
    public static func summary(_ values: [Double], expectedPerItem: Double,
                               transform: Transform = .identity) -> Summary {
        let transformed = values.map(transform.apply).sorted()
        let med = quantile(transformed, 0.5)
        let mad = median(transformed.map { abs($0 - med) })
        let tail = quantile(transformed, tailQuantile)
        let chance = transform == .identity ? max(expectedPerItem, 0).squareRoot() : 0
        let fromMAD = mad / madToSigma
        let scale = max(fromMAD, (tail - med) / tailQuantileSigmas, chance, transform.floor)
        return Summary(transform: transform, median: med, mad: mad, tail: tail, scale: scale,
                       scaleWasFloored: scale > fromMAD)
    }

    /// z of every value on `summary`.
    public static func zScores(_ values: [Double], summary: Summary) -> [Double] {
        values.map(summary.z)
    }
}
