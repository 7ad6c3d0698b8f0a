@testable import HubScan
import VectorMath
import XCTest

final class RobustStatisticsTests: XCTestCase {
    func testMedianOddEvenAndEmpty() {
        XCTAssertEqual(RobustStatistics.median([3, 1, 2]), 2)
        XCTAssertEqual(RobustStatistics.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(RobustStatistics.median([]), 0)
    }

    /// The reference formula with MAD = 0 turns one stray hit into an alarm; the floor does not.
    func testDegenerateMADIsFloored() {
        let values = [Double](repeating: 0, count: 990) + [Double](repeating: 1, count: 9) + [40]
        let summary = RobustStatistics.summary(values, expectedPerItem: 0.2)
        XCTAssertEqual(summary.median, 0)
        XCTAssertEqual(summary.mad, 0)
        XCTAssertTrue(summary.scaleWasFloored)
        let z = RobustStatistics.zScores(values, summary: summary)
        XCTAssertLessThan(z[995], 5, "one stray hit is not an alarm")
        XCTAssertGreaterThan(z[999], 5, "forty hits are")
        let naive = values.map { 0.6745 * ($0 - 0) / (0 + 1e-9) }
        XCTAssertGreaterThan(naive[995], 5, "the unfloored formula flags the stray hit (the trap)")
    }

    func testScaleFollowsMADWhenItIsLarger() {
        let values = (0..<1000).map { Double($0 % 100) }
        let summary = RobustStatistics.summary(values, expectedPerItem: 1)
        XCTAssertFalse(summary.scaleWasFloored)
        XCTAssertEqual(summary.scale, summary.mad / 0.6745, accuracy: 1e-9)
    }
}

final class HubScannerTests: XCTestCase {
    /// 10,000 vectors (L2, 32-d) in 20 overlapping topics with `hubs` planted geometric hubs:
    /// each the mean of 200 random documents, i.e. near the centre of the data, which in high
    /// dimension is close to everything (the classic hub). Well-separated cosine clusters have
    /// no such centre, so they are not used here.
    private func collection(hubs: Int, seed: UInt64 = 3) -> (Matrix, Set<Int>) {
        let clean = SyntheticData.gaussianClusters(rows: 10_000, dimension: 32, clusters: 20, seed: seed, spread: 0.3)
        guard hubs > 0 else { return (clean, []) }
        var values = clean.storage
        var rng = SplitMix64(seed: seed &+ 99)
        var planted = Set<Int>()
        while planted.count < hubs { planted.insert(Int(rng.next() % 10_000)) }
        for row in planted {
            var mean = [Float](repeating: 0, count: 32)
            for _ in 0..<200 {
                let source = Int(rng.next() % 10_000)
                for j in 0..<32 { mean[j] += clean.storage[source * 32 + j] / 200 }
            }
            for j in 0..<32 { values[row * 32 + j] = mean[j] }
        }
        return (try! Matrix(rows: 10_000, dimension: 32, storage: values), planted)
    }

    private func options(_ sample: SampleKind = .documents, budget: Double? = nil) -> HubScanner.Options {
        var options = HubScanner.Options()
        options.sample = sample
        options.sampleSize = 2_000
        options.budget = budget
        return options
    }

    /// 2,000 queries × k = 10 < 10,000 documents: the degenerate-MAD regime (median = MAD = 0).
    /// The formula as written would flag every document hit once (thousands); the floor keeps
    /// alarms to the natural hubs of the data. (The ≤ 0.05 % clean-set target is the calibrated
    /// scoring: CalibrationTests.)
    func testDegenerateRegimeDoesNotFlagEveryHitDocument() throws {
        let (clean, _) = collection(hubs: 0)
        var few = options()
        few.sampleSize = 400
        let report = try HubScanner.scan(clean, metric: .l2, options: few)
        XCTAssertEqual(report.distribution.median, 0)
        XCTAssertEqual(report.distribution.mad, 0)
        XCTAssertTrue(report.distribution.scaleWasFloored)
        XCTAssertLessThan(report.flagged.count, 100, "under 1 % of 10,000 documents")
        var all = few
        all.includeAllScores = true
        let scores = try XCTUnwrap(try HubScanner.scan(clean, metric: .l2, options: all).scores)
        XCTAssertGreaterThan(scores.filter { $0 > 0 }.count, 1_000, "over a thousand were hit: the unfloored z flags them all")
    }

    /// 25 hubs planted together must not mask each other.
    func testTwentyFivePlantedHubsAreFound() throws {
        let (data, planted) = collection(hubs: 25)
        let report = try HubScanner.scan(data, metric: .l2, options: options(.mixed, budget: 0.004))
        let found = Set(report.flagged.prefix(40).map(\.row)).intersection(planted)
        XCTAssertGreaterThanOrEqual(found.count, 24, "recall within the 0.4 % budget")
        let byThreshold = Set(report.flagged.filter { $0.z > 5 }.map(\.row)).intersection(planted)
        XCTAssertGreaterThanOrEqual(byThreshold.count, 24, "recall at the default threshold")
        let first = try XCTUnwrap(report.flagged.first)
        XCTAssertTrue(planted.contains(first.row))
        XCTAssertGreaterThan(first.explanation.clustersReached, 1, "a hub is retrieved from many topics")
        XCTAssertFalse(first.explanation.exampleQueries.isEmpty)
    }

    /// A hub placed where real user queries go, far from every document, is invisible to a
    /// document sample and found once the real queries join the sample.
    func testHubsOptimisedAgainstRealQueriesNeedTheRealQueries() throws {
        let clean = SyntheticData.gaussianClusters(rows: 10_000, dimension: 32, clusters: 20, seed: 3, normalized: true)
        var rng = SplitMix64(seed: 77)
        var direction = (0..<32).map { _ in rng.nextGaussian() }
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = direction.map { $0 / norm }
        var values = clean.storage
        for j in 0..<32 { values[7 * 32 + j] = direction[j] }
        let data = try Matrix(rows: 10_000, dimension: 32, storage: values)
        var queries = [Float]()
        for _ in 0..<600 {
            var q = direction.map { $0 + 0.05 * rng.nextGaussian() }
            let n = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
            q = q.map { $0 / n }
            queries += q
        }
        let real = try Matrix(rows: 600, dimension: 32, storage: queries)
        let blind = try HubScanner.scan(data, metric: .cosine, options: options(.documents))
        XCTAssertFalse(blind.flagged.contains { $0.row == 7 }, "a document sample cannot see it")
        let informed = try HubScanner.scan(data, metric: .cosine, realQueries: real, options: options(.documents))
        XCTAssertEqual(informed.realQueries, 600)
        let found = try XCTUnwrap(informed.flagged.first { $0.row == 7 }, "real queries reveal it")
        XCTAssertGreaterThan(found.z, 5)
        XCTAssertGreaterThan(try XCTUnwrap(found.detectors.realZ), 5, "hubness over the real queries alone")
    }

    func testReportIsDeterministicForASeed() throws {
        let (data, _) = collection(hubs: 3)
        var a = try HubScanner.scan(data, metric: .l2, options: options(.mixed))
        let b = try HubScanner.scan(data, metric: .l2, options: options(.mixed))
        a.timings = b.timings
        XCTAssertEqual(a, b)
    }

    /// The ingest screen catches a hub before it is served, and passes ordinary documents.
    func testIngestScreenCatchesAHubBeforeItIsServed() throws {
        let (clean, _) = collection(hubs: 0)
        let sample = try QuerySample.draw(.documents, size: 2_000, embeddings: clean, realQueries: nil,
                                          metric: .l2, seed: 5)
        let hits = try HitCounts(sample: sample, embeddings: clean, k: 10, metric: .l2)
        let screen = IngestScreen(sample: sample, hits: hits, metric: .l2)
        let (withHub, _) = collection(hubs: 1, seed: 3)
        let hubRow = Set(0..<10_000).first { withHub.row($0) != clean.row($0) }!
        let ordinary = SyntheticData.gaussianClusters(rows: 50, dimension: 32, clusters: 20, seed: 3, stream: 9,
                                                      spread: 0.3)
        let batch = try Matrix(rows: 51, dimension: 32, storage: ordinary.storage + withHub.row(hubRow))
        let verdicts = try screen.screen(batch)
        XCTAssertEqual(verdicts.count, 51)
        XCTAssertGreaterThan(verdicts[50].z, 5, "the hub would enter \(verdicts[50].wouldEnterTopK) top-10s")
        XCTAssertGreaterThan(verdicts[50].z, verdicts.prefix(50).map(\.z).max()!, "the hub outranks every ordinary vector")
        // Ordinary vectors near the data's centre are natural hubs too: most, not all, pass.
        XCTAssertLessThanOrEqual(verdicts.prefix(50).filter { $0.z > 5 }.count, 5)
        XCTAssertThrowsError(try screen.screen(Matrix(zeroRows: 1, dimension: 5))) {
            XCTAssertEqual(($0 as? HubScanError)?.code, .dimensionMismatch)
        }
    }

    func testBadInputIsRefused() throws {
        let (data, _) = collection(hubs: 0)
        var bad = options()
        bad.k = 0
        XCTAssertThrowsError(try HubScanner.scan(data, metric: .cosine, options: bad))
        bad = options(budget: 1.5)
        XCTAssertThrowsError(try HubScanner.scan(data, metric: .cosine, options: bad))
        XCTAssertThrowsError(try HubScanner.scan(data, metric: .cosine, options: options(.queries))) {
            XCTAssertEqual(($0 as? HubScanError)?.code, .invalidParameter)
        }
        XCTAssertThrowsError(try HubScanner.scan(Matrix(zeroRows: 0, dimension: 4), metric: .l2, options: options())) {
            XCTAssertEqual(($0 as? HubScanError)?.code, .emptyCollection)
        }
        let nan = try Matrix(rows: 20, dimension: 1, storage: [Float](repeating: 1, count: 19) + [.nan])
        XCTAssertThrowsError(try HubScanner.scan(nan, metric: .l2, options: options())) {
            XCTAssertEqual(($0 as? HubScanError)?.code, .nonFiniteValue)
        }
    }
}
