import HubScan
import VectorMath
import XCTest

final class ZHistogramTests: XCTestCase {
    func testEveryFiniteValueIsCountedInItsBin() throws {
        let histogram = try XCTUnwrap(ZHistogram([-1.2, -0.1, 0, 0.4, 0.5, 2.0, .nan, .infinity]))
        XCTAssertEqual(histogram.lower, -1.5)
        XCTAssertEqual(histogram.binWidth, 0.5)
        XCTAssertEqual(histogram.counts.reduce(0, +), 6, "NaN and infinity are left out")
        XCTAssertEqual(histogram.counts, [1, 0, 1, 2, 1, 0, 1])
        XCTAssertEqual(histogram.bin(of: 2.0), histogram.counts.count - 1, "the top edge falls in the last bin")
        XCTAssertNil(ZHistogram([.nan]))
    }

    func testAWideRangeIsSplitIntoAtMostBinsMax() throws {
        let histogram = try XCTUnwrap(ZHistogram((0..<1_000).map { Double($0) / 10 }))
        XCTAssertEqual(histogram.counts.count, ZHistogram.binsMax)
        XCTAssertEqual(histogram.counts.reduce(0, +), 1_000)
        XCTAssertGreaterThanOrEqual(histogram.upper, 99.9)
    }

    /// A scan's report carries the histogram of every scored document, the planted hub in a
    /// bin above the threshold and the collection's bulk below it.
    func testAScanReportsTheHistogramOfItsScores() throws {
        let main = SyntheticData.gaussianClusters(rows: 3_000, dimension: 32, clusters: 10, seed: 8, spread: 0.3)
        var values = main.storage
        for j in 0..<32 { values[j] = (1..<200).reduce(Float(0)) { $0 + main.storage[$1 * 32 + j] } / 199 }
        var options = HubScanner.Options()
        options.sampleSize = 1_500
        let report = try HubScanner.scan(try Matrix(rows: 3_000, dimension: 32, storage: values), metric: .l2, options: options)
        let histogram = try XCTUnwrap(report.zHistogram)
        XCTAssertEqual(histogram.counts.reduce(0, +), 3_000)
        let hub = try XCTUnwrap(report.flagged.first { $0.row == 0 })
        XCTAssertGreaterThan(hub.z, options.threshold)
        XCTAssertGreaterThan(histogram.counts[histogram.bin(of: hub.z)], 0)
        let below = histogram.counts.indices.filter { histogram.lower + Double($0 + 1) * histogram.binWidth <= options.threshold }
        XCTAssertGreaterThan(below.map { histogram.counts[$0] }.reduce(0, +), 2_900, "the bulk sits below the threshold")
        let decoded = try JSONDecoder().decode(ScanReport.self, from: try JSONEncoder().encode(report))
        XCTAssertEqual(decoded.zHistogram, histogram)
    }
}
