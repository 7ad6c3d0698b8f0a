import Dispatch
import Foundation
import VectorMath

/// Runs a scan: sample → top-k (exact, or any `NeighborSearch`) → hit counts → perturbed
/// sample's top-k → near-duplicate groups → domain scans → detectors → flags → report.
///
/// Every detector but the domain one scores units (`NearDuplicates`): a group of
/// near-identical documents counts as one, hit by a query at its best-ranked member, so a
/// swarm of near-copies that splits the queries between its members is seen as the hub it
/// copies, and every member is flagged with it. A query never votes for the unit it stands
/// inside. The robust summaries are taken over units, so a hundred mirrored passages count
/// once in the distribution they are measured against.
///
/// Detectors (`DetectorScores`): hubness (robust z of rank-weighted hits on the √ scale, with
/// a tail-anchored spread: `RobustStatistics`), stability under perturbed queries, hubness over
/// the real queries alone, spread over topic clusters, and, with domain labels, hubness within
/// each domain. A document is flagged when its z (`DetectorScores.z`) exceeds the threshold,
/// or when it is in the top `budget` fraction by combined score.
public enum HubScanner {
    public static let kMax = 1_000
    public static let sampleSizeMax = 1_000_000
    /// Real queries needed before they get a hubness detector of their own.
    public static let realQueriesMin = 500
    /// The scale hubness is scored on. On the raw scale the clean text collection flagged
    /// 0.18 % of its documents at z > 5 (35 of 19,574); on the √ scale 0.03 %.
    static let hubnessTransform = RobustStatistics.Transform.sqrt

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
    /// given, joins every sample; `domains`, when given, adds the domain-scoped detector.
    public static func scan(_ embeddings: Matrix, metric: Metric, realQueries: Matrix? = nil,
                            domains: DomainLabels? = nil, search: (any NeighborSearch)? = nil,
                            options: Options) throws(HubScanError) -> ScanReport {
        try scanWithScreen(embeddings, metric: metric, realQueries: realQueries, domains: domains, search: search,
                           options: options).report
    }

    /// A scan and the ingest screen built from the same sample and hit distribution. `search`
    /// (exact by default) answers the sample's and the perturbed sample's top-k; domain scans
    /// are always exact (each domain is a fraction of the collection).
    public static func scanWithScreen(_ embeddings: Matrix, metric: Metric, realQueries: Matrix? = nil,
                                      domains: DomainLabels? = nil, search: (any NeighborSearch)? = nil,
                                      options: Options) throws(HubScanError) -> (report: ScanReport, screen: IngestScreen) {
        try validate(embeddings, domains: domains, options: options)
        var clock = Stopwatch()
        let sample = try QuerySample.draw(options.sample, size: options.sampleSize, embeddings: embeddings,
                                          realQueries: realQueries, metric: metric, seed: options.seed)
        let clusters = options.topicClusters ?? max(1, min(32, embeddings.rows / 100))
        let centroids = try KMeans.fit(embeddings, clusters: min(clusters, HitCounts.clustersMax, embeddings.rows),
                                       metric: metric, seed: options.seed &+ 1)
        let queryClusters = try KMeans.assign(sample.vectors, to: centroids, metric: metric)
        let sampleSeconds = clock.lap()
        let searcher = search ?? ExactNeighborSearch(base: embeddings, metric: metric)
        let hits = try HitCounts(sample: sample, embeddings: embeddings, k: options.k, metric: metric,
                                 queryClusters: queryClusters, search: searcher)
        let searchSeconds = clock.lap()
        let moved = Stability.perturbed(sample, hits: hits, metric: metric, seed: options.seed &+ 2)
        let movedHits = try HitCounts(sample: moved, embeddings: embeddings, k: options.k, metric: metric, search: searcher)
        let stabilitySeconds = clock.lap()
        let units = NearDuplicates(hits: hits, embeddings: embeddings, metric: metric)
        let own = units.ownUnits(sample: sample, hits: hits, embeddings: embeddings, metric: metric)
        let stable = Stability.stableHits(original: hits, perturbed: movedHits, units: units, own: own)
        let groupingSeconds = clock.lap()
        let domainZ = try domains.map { labels throws(HubScanError) in
            try DomainScan.hubnessZ(embeddings, domains: labels, global: sample, globalHits: hits, metric: metric,
                                    options: options)
        }
        let domainSeconds = clock.lap()
        var report = score(Evidence(hits: hits, units: units, own: own, stableHits: stable, domainZ: domainZ,
                                    domains: domains, realQueries: sample.realQueryCount),
                           options: options, metric: metric, clusters: centroids.rows)
        let scoringSeconds = clock.lap()
        report.documents = embeddings.rows
        report.queries = sample.vectors.rows
        report.realQueries = sample.realQueryCount
        report.parameters.search = searcher.name
        let flops = searcher.isExact ? 2 * 2 * Double(sample.vectors.rows) * Double(embeddings.rows) * Double(embeddings.dimension) : 0
        report.timings = ScanReport.Timings(sampleSeconds: sampleSeconds, searchSeconds: searchSeconds,
                                            stabilitySeconds: stabilitySeconds, groupingSeconds: groupingSeconds,
                                            domainSeconds: domainSeconds,
                                            scoringSeconds: scoringSeconds, totalSeconds: clock.total,
                                            searchFlops: flops, gflopsEndToEnd: flops / max(clock.total, 1e-9) / 1e9)
        let distribution = report.distribution
        let hubness = RobustStatistics.Summary(transform: distribution.transform, median: distribution.median, mad: distribution.mad,
                                               tail: distribution.tail, scale: distribution.scale,
                                               scaleWasFloored: distribution.scaleWasFloored)
        let real = realWeighted(hits, units: units, own: own, realQueries: sample.realQueryCount)?.summary
        return (report, IngestScreen(sample: sample, hits: hits, metric: metric, summary: hubness,
                                     real: real.map { (sample.vectors.rows - sample.realQueryCount, $0) }))
    }

    private static func validate(_ embeddings: Matrix, domains: DomainLabels?, options: Options) throws(HubScanError) {
        if let domains, domains.ofRow.count != embeddings.rows {
            throw HubScanError(.invalidParameter, "got \(domains.ofRow.count) domain labels for \(embeddings.rows) documents")
        }
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

    /// What the searches found, for scoring.
    struct Evidence {
        let hits: HitCounts
        /// Near-duplicate groups: every per-row value below is its unit's (`NearDuplicates`).
        let units: NearDuplicates
        /// Per sampled query, the unit it stands inside and does not vote for (`ownUnits`).
        let own: [Int?]
        let stableHits: [Double]
        let domainZ: [Double?]?
        let domains: DomainLabels?
        let realQueries: Int
    }

    /// z of rank-weighted hits over the real queries (the sample's last rows), when enough.
    static func realHubness(_ hits: HitCounts, units: NearDuplicates, own: [Int?], realQueries: Int) -> [Double]? {
        realWeighted(hits, units: units, own: own, realQueries: realQueries).map { RobustStatistics.zScores($0.weighted, summary: $0.summary) }
    }

    /// Rank-weighted hits over the real queries and their summary (over units), when enough.
    static func realWeighted(_ hits: HitCounts, units: NearDuplicates, own: [Int?], realQueries: Int)
        -> (weighted: [Double], summary: RobustStatistics.Summary)? {
        guard realQueries >= realQueriesMin else { return nil }
        let total = hits.kthDistance.count
        let weighted = units.rankWeighted(topRows: hits.topRows, k: hits.k, own: own, queries: (total - realQueries)..<total)
        return (weighted, RobustStatistics.summary(units.unitValues(weighted), expectedPerItem: 0, transform: HubScanner.hubnessTransform))
    }

    /// Distinct topic clusters among the queries that retrieved each unit (any member).
    static func clustersReached(_ hits: HitCounts, units: NearDuplicates) -> [Double] {
        var masks = [UInt64](repeating: 0, count: hits.clusterMasks.count)
        for (row, mask) in hits.clusterMasks.enumerated() { masks[units.unitOf[row]] |= mask }
        return units.unitOf.map { Double(masks[$0].nonzeroBitCount) }
    }

    /// Every detector's z, the combined score, flags and explanations.
    static func score(_ evidence: Evidence, options: Options, metric: Metric, clusters: Int) -> ScanReport {
        let hits = evidence.hits, units = evidence.units
        let weighted = units.rankWeighted(topRows: hits.topRows, k: hits.k, own: evidence.own,
                                          queries: 0..<hits.kthDistance.count)
        let hubness = RobustStatistics.summary(units.unitValues(weighted), expectedPerItem: hits.chanceRankWeighted,
                                               transform: HubScanner.hubnessTransform)
        let stability = RobustStatistics.summary(units.unitValues(evidence.stableHits), expectedPerItem: 0,
                                                 transform: HubScanner.hubnessTransform)
        let reached = clustersReached(hits, units: units)
        let detectors = DetectorScores(
            hubness: RobustStatistics.zScores(weighted, summary: hubness),
            stability: RobustStatistics.zScores(evidence.stableHits, summary: stability),
            spread: RobustStatistics.zScores(reached, summary: RobustStatistics.summary(units.unitValues(reached), expectedPerItem: 0)),
            domain: evidence.domainZ,
            real: realHubness(hits, units: units, own: evidence.own, realQueries: evidence.realQueries))
        let rows = weighted.indices
        let combined = rows.map(detectors.combined)
        var flaggedRows = Set(rows.filter { detectors.z($0) > options.threshold })
        if let budget = options.budget {
            let take = max(1, Int((budget * Double(combined.count)).rounded()))
            flaggedRows.formUnion(rows.sorted { combined[$0] > combined[$1] }.prefix(take))
        }
        let flagged = flaggedRows.sorted { combined[$0] != combined[$1] ? combined[$0] > combined[$1] : $0 < $1 }.map { row in
            ScanReport.Flagged(
                row: row, score: combined[row], z: detectors.z(row),
                detectors: ScanReport.Detectors(hubnessZ: detectors.hubness[row], stabilityZ: detectors.stability[row],
                                                spreadZ: detectors.spread[row], domainZ: detectors.domain?[row] ?? nil,
                                                realZ: detectors.real?[row]),
                explanation: ScanReport.Explanation(
                    hits: Int(hits.counts[row]), rankWeightedHits: hits.rankWeighted[row],
                    exampleQueries: hits.examples[row], stableHits: evidence.stableHits[row],
                    clustersReached: Int(reached[row]),
                    domain: evidence.domains.map { $0.names[$0.ofRow[row]] },
                    reason: reason(z: detectors.z(row), threshold: options.threshold, hits: hits, row: row, clusters: clusters)),
                group: units.isGrouped(row) ? units.unitOf[row] : nil,
                groupSize: units.isGrouped(row) ? units.size(ofGroupOf: row) : nil)
        }
        let parameters = ScanReport.Parameters(sample: options.sample, sampleSize: options.sampleSize, k: options.k,
                                               threshold: options.threshold, budget: options.budget, seed: options.seed,
                                               topicClusters: clusters, metric: metric)
        let distribution = ScanReport.Distribution(transform: hubness.transform, median: hubness.median, mad: hubness.mad,
                                                   tail: hubness.tail, scale: hubness.scale,
                                                   scaleWasFloored: hubness.scaleWasFloored,
                                                   chanceLevel: hits.chanceRankWeighted,
                                                   maxZ: rows.map(detectors.z).max() ?? 0)
        return ScanReport(parameters: parameters, documents: 0, queries: 0, realQueries: 0,
                          timings: ScanReport.Timings(sampleSeconds: 0, searchSeconds: 0, stabilitySeconds: 0, groupingSeconds: nil,
                                                      domainSeconds: 0, scoringSeconds: 0, totalSeconds: 0,
                                                      searchFlops: 0, gflopsEndToEnd: 0),
                          distribution: distribution, flagged: flagged, zHistogram: ZHistogram(rows.map(detectors.z)),
                          scores: options.includeAllScores ? combined : nil,
                          detectorScores: options.includeAllScores ? detectors : nil,
                          nearDuplicateGroups: units.groups.count,
                          units: options.includeAllScores ? units.unitOf : nil)
    }

    private static func reason(z: Double, threshold: Double, hits: HitCounts, row: Int, clusters: Int) -> String {
        let base = "in the top-\(hits.k) of \(Int(hits.counts[row])) sampled queries from "
            + "\(hits.clusterMasks[row].nonzeroBitCount) of \(clusters) topic clusters"
        return z > threshold ? base + String(format: "; hubness z = %.1f > %.1f", z, threshold)
                             : base + String(format: "; within the alert budget (z = %.1f)", z)
    }

}

/// Wall-clock laps of a scan's phases.
struct Stopwatch {
    private let start = DispatchTime.now().uptimeNanoseconds
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the previous lap (or the start).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }

    var total: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
