import Foundation

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
///    least what a high quantile q implies for a normal distribution: `(x_q − median) / Φ⁻¹(q)`.
///    q = 99.5 %, lowered on small collections so that the top `hubsIgnoredMin` documents
///    never reach it: 25 planted hubs do not mask each other, in 800 documents or in 100,000.
/// So `z = (t(x) − median(t)) / max(MAD(t) / 0.6745, (x_q(t) − median(t)) / Φ⁻¹(q), floor, chance)`.
public enum RobustStatistics {
    /// 0.6745 = Φ⁻¹(0.75): MAD / 0.6745 estimates σ for a normal distribution.
    public static let madToSigma = 0.6745
    /// The quantile that anchors the tail spread (on collections of 5,000 documents or more).
    public static let tailQuantileMax = 0.995
    /// Documents above the tail quantile, at least: as many hubs as may be planted together.
    public static let hubsIgnoredMin = 25
    /// Below this many values the tail anchor is not used (too few to estimate a quantile).
    public static let tailValuesMin = 100

    /// The tail quantile for `count` values: 99.5 %, or lower so `hubsIgnored` lie above it.
    public static func tailQuantile(count: Int, hubsIgnored: Int = hubsIgnoredMin) -> Double {
        min(tailQuantileMax, 1 - Double(hubsIgnored) / Double(max(count, 1)))
    }

    /// Φ⁻¹(p) for p in [0.5, 1): Abramowitz & Stegun 26.2.23 (absolute error < 4.5e-4).
    static func normalQuantile(_ p: Double) -> Double {
        precondition(p >= 0.5 && p < 1, "upper half only")
        let t = (-2 * Foundation.log(1 - p)).squareRoot()
        return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
    }

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
        /// Median, MAD and tail quantile (`tailQuantile(count:)`) of the transformed values.
        public let median: Double
        public let mad: Double
        public let tail: Double
        /// The σ estimate z divides by: max(MAD / 0.6745, (tail − median) / Φ⁻¹(q), floor, chance).
        public let scale: Double
        /// True when MAD alone would have been 0 or below the scale used.
        public let scaleWasFloored: Bool

        /// The z-score of one raw value on this distribution.
        public func z(_ x: Double) -> Double { (transform.apply(x) - median) / scale }
    }

    /// Summarises `values`; `expectedPerItem` is the chance level λ (hits per document).
    /// `hubsIgnored`: how many values may lie above the tail quantile (`hubsIgnoredMin` for a
    /// collection; fewer for one domain of many, see `DomainScan.hubsIgnored`).
    public static func summary(_ values: [Double], expectedPerItem: Double,
                               transform: Transform = .identity, hubsIgnored: Int = hubsIgnoredMin) -> Summary {
        let transformed = values.map(transform.apply).sorted()
        let med = quantile(transformed, 0.5)
        let mad = median(transformed.map { abs($0 - med) })
        let q = tailQuantile(count: transformed.count, hubsIgnored: hubsIgnored)
        let useTail = transformed.count >= tailValuesMin && q >= 0.5
        let tail = useTail ? quantile(transformed, q) : med
        let fromTail = useTail ? (tail - med) / normalQuantile(q) : 0
        let chance = transform == .identity ? max(expectedPerItem, 0).squareRoot() : 0
        let fromMAD = mad / madToSigma
        let scale = max(fromMAD, fromTail, chance, transform.floor)
        return Summary(transform: transform, median: med, mad: mad, tail: tail, scale: scale,
                       scaleWasFloored: scale > fromMAD)
    }

    /// z of every value on `summary`.
    public static func zScores(_ values: [Double], summary: Summary) -> [Double] {
        values.map(summary.z)
    }
}
