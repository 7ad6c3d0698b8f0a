import Dispatch
import Foundation
import VectorMath

/// Runs a scan: sample → exact top-k → hit counts → robust z → spread → flags → report.
///
/// Flagging: a document is flagged when its hubness z (rank-weighted hits) exceeds the threshold,
/// or when it is in the top `budget` fraction by combined score. The combined score is
/// `hubness z + spreadWeight · max(0, spread z)`: spread (how many unrelated topic clusters the
/// retrieving queries come from) ranks a hub that reaches everywhere above an honest popular
/// document that stays in its topic. The weight is provisional until the detection benchmark
/// (planted hubs) calibrates it.
public enum HubScanner {
    public static let spreadWeight = 0.5
    public static let kMax = 1_000
    public static let sampleSizeMax = 1_000_000

    public struct Options: Sendable {
        public var sample: SampleKind = .mixed
        public var sampleSize = 10_000
        public var k = 10
        public var threshold = 5.0
        public var budget: Double?
        public var seed: UInt64 = 1
        /// Topic clusters for the spread detector (≤ 64); nil picks min(32, documents / 100).
        public var topicClusters: Int?
        public var includeAllScores = false

        public init() {}
    }

    /// Scans `embeddings` (prepared for `metric`: unit length for cosine). `realQueries`, when
    /// given, joins every sample.
    public static func scan(_ embeddings: Matrix, metric: Metric, realQueries: Matrix? = nil,
                            options: Options) throws(HubScanError) -> ScanReport {
        try scanWithScreen(embeddings, metric: metric, realQueries: realQueries, options: options).report
    }

    /// A scan and the ingest screen built from the same sample and hit distribution.
    public static func scanWithScreen(_ embeddings: Matrix, metric: Metric, realQueries: Matrix? = nil,
                                      options: Options) throws(HubScanError) -> (report: ScanReport, screen: IngestScreen) {
        try validate(embeddings, options: options)
        let start = DispatchTime.now().uptimeNanoseconds
        let sample = try QuerySample.draw(options.sample, size: options.sampleSize, embeddings: embeddings,
                                          realQueries: realQueries, metric: metric, seed: options.seed)
        let clusters = options.topicClusters ?? max(1, min(32, embeddings.rows / 100))
        let centroids = try KMeans.fit(embeddings, clusters: min(clusters, HitCounts.clustersMax, embeddings.rows),
                                       metric: metric, seed: options.seed &+ 1)
        let queryClusters = try KMeans.assign(sample.vectors, to: centroids, metric: metric)
        let sampled = DispatchTime.now().uptimeNanoseconds
        let hits = try HitCounts(sample: sample, embeddings: embeddings, k: options.k, metric: metric,
                                 queryClusters: queryClusters)
        let searched = DispatchTime.now().uptimeNanoseconds
        var report = score(hits, options: options, metric: metric, clusters: centroids.rows)
        let done = DispatchTime.now().uptimeNanoseconds
        report.documents = embeddings.rows
        report.queries = sample.vectors.rows
        report.realQueries = sample.realQueryCount
        report.timings = ScanReport.Timings(sampleSeconds: seconds(start, sampled), searchSeconds: seconds(sampled, searched),
                                            scoringSeconds: seconds(searched, done), totalSeconds: seconds(start, done))
        return (report, IngestScreen(sample: sample, hits: hits, metric: metric))
    }

    private static func validate(_ embeddings: Matrix, options: Options) throws(HubScanError) {
        guard embeddings.rows > 0 else { throw HubScanError(.emptyCollection, "the collection has no vectors") }
        if let row = embeddings.firstNonFiniteRow() {
            throw HubScanError(.nonFiniteValue, "embedding row \(row) contains NaN or infinity")
        }
        guard (1...kMax).contains(options.k), options.k < embeddings.rows else {
            throw HubScanError(.invalidParameter, "k must be in 1...\(kMax) and below the collection size \(embeddings.rows)")
        }
        guard (1...sampleSizeMax).contains(options.sampleSize) else {
            throw HubScanError(.invalidParameter, "sample size must be in 1...\(sampleSizeMax)")
        }
        guard options.threshold.isFinite, options.threshold > 0 else {
            throw HubScanError(.invalidParameter, "threshold must be a positive number")
        }
        if let budget = options.budget, !(budget > 0 && budget < 1) {
            throw HubScanError(.invalidParameter, "budget is a fraction in (0, 1), e.g. 0.002 for 0.2 %")
        }
    }

    /// Robust z of hubness and spread, combined score, flags and explanations.
    static func score(_ hits: HitCounts, options: Options, metric: Metric, clusters: Int) -> ScanReport {
        let hubness = RobustStatistics.summary(hits.rankWeighted, expectedPerItem: hits.chanceRankWeighted)
        let hubnessZ = RobustStatistics.zScores(hits.rankWeighted, summary: hubness)
        let reached = hits.clustersReached
        let spreadZ = RobustStatistics.zScores(reached, summary: RobustStatistics.summary(reached, expectedPerItem: 0))
        let combined = zip(hubnessZ, spreadZ).map { $0 + spreadWeight * max(0, $1) }
        var flaggedRows = Set(hubnessZ.indices.filter { hubnessZ[$0] > options.threshold })
        if let budget = options.budget {
            let take = max(1, Int((budget * Double(combined.count)).rounded()))
            flaggedRows.formUnion(combined.indices.sorted { combined[$0] > combined[$1] }.prefix(take))
        }
        let flagged = flaggedRows.sorted { combined[$0] != combined[$1] ? combined[$0] > combined[$1] : $0 < $1 }.map { row in
            ScanReport.Flagged(
                row: row, score: combined[row], z: hubnessZ[row],
                detectors: ScanReport.Detectors(hubnessZ: hubnessZ[row], spreadZ: spreadZ[row]),
                explanation: ScanReport.Explanation(
                    hits: Int(hits.counts[row]), rankWeightedHits: hits.rankWeighted[row],
                    exampleQueries: hits.examples[row], clustersReached: Int(reached[row]),
                    reason: reason(z: hubnessZ[row], threshold: options.threshold, hits: hits, row: row, clusters: clusters)))
        }
        let parameters = ScanReport.Parameters(sample: options.sample, sampleSize: options.sampleSize, k: options.k,
                                               threshold: options.threshold, budget: options.budget, seed: options.seed,
                                               topicClusters: clusters, metric: metric)
        let distribution = ScanReport.Distribution(median: hubness.median, mad: hubness.mad, scale: hubness.scale,
                                                   scaleWasFloored: hubness.scaleWasFloored,
                                                   chanceLevel: hits.chanceRankWeighted, maxZ: hubnessZ.max() ?? 0)
        return ScanReport(parameters: parameters, documents: 0, queries: 0, realQueries: 0,
                          timings: ScanReport.Timings(sampleSeconds: 0, searchSeconds: 0, scoringSeconds: 0, totalSeconds: 0),
                          distribution: distribution, flagged: flagged,
                          scores: options.includeAllScores ? combined : nil)
    }

    private static func reason(z: Double, threshold: Double, hits: HitCounts, row: Int, clusters: Int) -> String {
        let base = "in the top-\(hits.k) of \(Int(hits.counts[row])) sampled queries from "
            + "\(hits.clusterMasks[row].nonzeroBitCount) of \(clusters) topic clusters"
        return z > threshold ? base + String(format: "; hubness z = %.1f > %.1f", z, threshold)
                             : base + String(format: "; within the alert budget (z = %.1f)", z)
    }

    private static func seconds(_ from: UInt64, _ to: UInt64) -> Double { Double(to - from) / 1e9 }
}
