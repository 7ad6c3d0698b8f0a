/// The distribution of every scored document's thresholded z, binned: what a person looks at
/// to see whether the flagged documents stand apart from the collection or sit on its tail.
///
/// Bins are `binWidth` wide from `lower`; bin i counts the z in [lower + i·w, lower + (i+1)·w),
/// the last bin also counts z equal to its upper edge. The width is `preferredBinWidth` unless
/// the range needs more than `binsMax` bins, then the range is split into `binsMax`.
/// Invariant: `counts.reduce(0, +)` is the number of z binned (every finite one).
public struct ZHistogram: Sendable, Codable, Equatable {
    public static let binsMax = 64
    public static let preferredBinWidth = 0.5

    public var lower: Double
    public var binWidth: Double
    public var counts: [Int]

    enum CodingKeys: String, CodingKey { case lower, counts, binWidth = "bin_width" }

    public init(lower: Double, binWidth: Double, counts: [Int]) {
        self.lower = lower
        self.binWidth = binWidth
        self.counts = counts
    }

    /// Bins the finite values of `z`; nil when there are none.
    public init?(_ z: [Double]) {
        let finite = z.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        let lower = (low / Self.preferredBinWidth).rounded(.down) * Self.preferredBinWidth
        let span = max(high - lower, Self.preferredBinWidth)
        var width = Self.preferredBinWidth
        if (span / width).rounded(.up) > Double(Self.binsMax) { width = span / Double(Self.binsMax) }
        let bins = min(Self.binsMax, max(1, Int((span / width).rounded(.up))))
        var counts = [Int](repeating: 0, count: bins)
        for value in finite { counts[min(bins - 1, Int((value - lower) / width))] += 1 }
        self.init(lower: lower, binWidth: width, counts: counts)
    }

    /// The bin a z falls in (clamped to the first and last bin).
    public func bin(of z: Double) -> Int {
        guard z.isFinite else { return z > 0 ? counts.count - 1 : 0 }
        return min(counts.count - 1, max(0, Int((z - lower) / binWidth)))
    }

    public var upper: Double { lower + binWidth * Double(counts.count) }
}
