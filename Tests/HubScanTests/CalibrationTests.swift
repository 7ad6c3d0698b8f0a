@testable import HubScan
import VectorMath
import XCTest

/// The calibrated scoring: a clean collection stays quiet at the default threshold, planted hubs
/// do not, and the stability, real-query and domain detectors each do their part.
final class CalibrationTests: XCTestCase {
    /// 20,000 clean clustered vectors: the reference formula (plain counts, MAD only) raises
    /// hundreds of alarms on natural hubs; the √-scale, tail-anchored z stays within 0.05 %.
    func testACleanClusteredCollectionStaysQuietAtTheDefaultThreshold() throws {
        let clean = SyntheticData.gaussianClusters(rows: 20_000, dimension: 32, clusters: 50, seed: 5)
        var options = HubScanner.Options()
        options.sampleSize = 4_000
        let report = try HubScanner.scan(clean, metric: .l2, options: options)
        XCTAssertLessThanOrEqual(report.flagged.count, 10, "≤ 0.05 % of 20,000; max z \(report.distribution.maxZ)")
        XCTAssertEqual(report.distribution.transform, .sqrt)

        let sample = try QuerySample.draw(.mixed, size: 4_000, embeddings: clean, realQueries: nil, metric: .l2, seed: 1)
        let counts = try HitCounts(sample: sample, embeddings: clean, k: 10, metric: .l2).counts
        let median = RobustStatistics.median(counts)
        let mad = RobustStatistics.median(counts.map { abs($0 - median) })
        let reference = counts.filter { 0.6745 * ($0 - median) / (mad + 1e-9) > 5 }.count
        XCTAssertGreaterThan(reference, 100, "the reference formula's false alarms on the same collection")
    }

    /// The tail quantile leaves at least 25 documents above it, so 25 hubs cannot set the scale.
    func testTheTailQuantileIgnoresTwentyFiveDocumentsOnSmallCollections() {
        XCTAssertEqual(RobustStatistics.tailQuantile(count: 100_000), 0.995)
        XCTAssertEqual(RobustStatistics.tailQuantile(count: 1_000), 0.975, accuracy: 1e-12)
        XCTAssertEqual(RobustStatistics.normalQuantile(0.975), 1.96, accuracy: 1e-3)
        XCTAssertEqual(RobustStatistics.normalQuantile(0.995), 2.5758, accuracy: 1e-3)
        // 975 ordinary values and 25 huge ones: the huge ones stay far above 5.
        let values = (0..<975).map { Double($0 % 10) } + [Double](repeating: 400, count: 25)
        let summary = RobustStatistics.summary(values, expectedPerItem: 4, transform: .sqrt)
        XCTAssertGreaterThan(summary.z(400), 10)
        XCTAssertLessThan(summary.z(9), 5)
    }

    /// A hub at the centre of a small domain: its domain's own scan sees it retrieved by nearly
    /// every query there, far beyond what the whole-collection scan shows.
    func testADomainScopedScanRaisesAHubAimedAtOneSmallDomain() throws {
        let main = SyntheticData.gaussianClusters(rows: 9_850, dimension: 32, clusters: 20, seed: 3)
        let small = SyntheticData.gaussianClusters(rows: 150, dimension: 32, clusters: 1, seed: 11)
        var values = main.storage + small.storage
        let centre = (0..<32).map { j in (0..<150).reduce(Float(0)) { $0 + small.storage[$1 * 32 + j] } / 150 }
        for j in 0..<32 { values[9_999 * 32 + j] = centre[j] }
        let data = try Matrix(rows: 10_000, dimension: 32, storage: values)
        let labels = try DomainLabels((0..<10_000).map { $0 < 9_850 ? "main" : "small" }, rows: 10_000)
        var options = HubScanner.Options()
        options.sample = .documents
        options.sampleSize = 500
        let global = try HubScanner.scan(data, metric: .l2, options: options)
        let scoped = try HubScanner.scan(data, metric: .l2, domains: labels, options: options)
        let hub = try XCTUnwrap(scoped.flagged.first { $0.row == 9_999 }, "flagged with domains")
        let domainZ = try XCTUnwrap(hub.detectors.domainZ)
        XCTAssertGreaterThan(domainZ, 5)
        XCTAssertGreaterThan(domainZ, hub.detectors.hubnessZ, "the domain shows it more clearly than the whole collection")
        XCTAssertEqual(hub.explanation.domain, "small")
        let globalZ = global.flagged.first { $0.row == 9_999 }?.z ?? 0
        XCTAssertLessThan(globalZ, domainZ)
        XCTAssertLessThanOrEqual(scoped.flagged.count, 6, "domains do not flood the report: \(scoped.flagged.map(\.row))")
    }

    /// The stability detector: a planted hub (the mean of 199 documents of overlapping topics,
    /// the data's centre) keeps its hits when every query is nudged.
    func testAPlantedHubIsStableUnderPerturbedQueries() throws {
        let main = SyntheticData.gaussianClusters(rows: 5_000, dimension: 32, clusters: 10, seed: 8, spread: 0.3)
        var values = main.storage
        for j in 0..<32 { values[j] = (1..<200).reduce(Float(0)) { $0 + main.storage[$1 * 32 + j] } / 199 }
        let data = try Matrix(rows: 5_000, dimension: 32, storage: values)
        var options = HubScanner.Options()
        options.sampleSize = 2_000
        options.includeAllScores = true
        let report = try HubScanner.scan(data, metric: .l2, options: options)
        let scores = try XCTUnwrap(report.detectorScores)
        XCTAssertEqual(scores.stability.count, 5_000)
        XCTAssertGreaterThan(scores.stability[0], 5)
        let hub = try XCTUnwrap(report.flagged.first { $0.row == 0 })
        XCTAssertGreaterThan(hub.explanation.stableHits, 0.5 * hub.explanation.rankWeightedHits,
                             "most of its hits survive the nudge")
        XCTAssertGreaterThan(report.timings.stabilitySeconds, 0)
        XCTAssertEqual(report.timings.searchFlops, 2 * 2 * Double(report.queries) * 5_000 * 32)
    }

    func testDomainLabelsAreValidated() {
        XCTAssertThrowsError(try DomainLabels(["a", "b"], rows: 3)) {
            XCTAssertEqual(($0 as? HubScanError)?.code, .invalidParameter)
        }
        XCTAssertThrowsError(try DomainLabels(["a", ""], rows: 2)) {
            XCTAssertEqual(($0 as? HubScanError)?.code, .invalidParameter)
        }
        XCTAssertEqual(try DomainLabels(["x", "y", "x"], rows: 3).ofRow, [0, 1, 0])
    }
}
