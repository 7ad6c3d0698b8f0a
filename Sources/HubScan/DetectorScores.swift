/// Every detector's z-score for every document, and how they combine.
///
/// - `hubness`: rank-weighted hits of the sample (√ scale, tail-anchored spread);
/// - `stability`: the rank-weighted hits that survive perturbed queries (same scale);
/// - `spread`: distinct topic clusters among the retrieving queries;
/// - `real`: hubness over the real queries alone (when the sample has enough of them);
/// - `domain`: hubness within the document's own domain (when domains are given).
///
/// The thresholded z is `max(½ (hubness + stability), real, domain)`: on planted hubs (the
/// detection benchmark) stability separates hubs from the natural tail better than hubness
/// (planted z about 2.1× the clean maximum, against 1.7×), and their mean keeps both the
/// recall and the clean collection's quiet. Real queries get their own detector because on
/// the text collection the synthetic queries dilute a hub optimised against real traffic:
/// recall 0.81 at a 0.4 % budget without it, 1.00 with it. The combined score, which ranks documents and fills
/// an alert budget, adds `spreadWeight · max(0, spread)`: reaching many unrelated topics only
/// ever raises suspicion.
public struct DetectorScores: Sendable, Codable, Equatable {
    public static let stabilityWeight = 0.5
    public static let spreadWeight = 0.5

    public var hubness: [Double]
    public var stability: [Double]
    public var spread: [Double]
    public var domain: [Double?]?
    /// Hubness over the real queries alone (nil when the sample has fewer than
    /// `HubScanner.realQueriesMin`): a hub optimised against real traffic is not diluted by
    /// the synthetic queries there.
    public var real: [Double]?

    /// The thresholded z of one document.
    public func z(_ row: Int) -> Double {
        max((1 - Self.stabilityWeight) * hubness[row] + Self.stabilityWeight * stability[row],
            real?[row] ?? -.infinity, domain?[row] ?? -.infinity)
    }

    /// The combined score of one document (higher = more suspicious).
    public func combined(_ row: Int) -> Double {
        z(row) + Self.spreadWeight * max(0, spread[row])
    }
}
