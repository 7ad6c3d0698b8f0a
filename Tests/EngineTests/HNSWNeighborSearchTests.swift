import Engine
import HNSW
import HubScan
import VectorMath
import XCTest

/// HubScan through an HNSW graph finds the same planted hubs as the exact scan.
final class HNSWNeighborSearchTests: XCTestCase {
    func testAnHNSWBackedScanFindsTheHubsTheExactScanFinds() throws {
        let clean = SyntheticData.gaussianClusters(rows: 6_000, dimension: 32, clusters: 20, seed: 3, spread: 0.3)
        var values = clean.storage
        let planted = [11, 2_222, 4_444]
        var rng = SplitMix64(seed: 5)
        for row in planted {
            for j in 0..<32 { values[row * 32 + j] = 0 }
            for _ in 0..<200 {
                let source = Int(rng.next() % 6_000)
                for j in 0..<32 { values[row * 32 + j] += clean.storage[source * 32 + j] / 200 }
            }
        }
        let data = try Matrix(rows: 6_000, dimension: 32, storage: values)
        var options = HubScanner.Options()
        options.sampleSize = 2_000
        options.budget = 0.001
        let exact = try HubScanner.scan(data, metric: .l2, options: options)
        let graph = try HNSWNeighborSearch.build(data, metric: .l2)
        let approximate = try HubScanner.scan(data, metric: .l2, search: graph, options: options)
        XCTAssertEqual(approximate.parameters.search, "hnsw")
        XCTAssertEqual(approximate.timings.searchFlops, 0, "no sgemm flops to claim")
        let top = { (report: ScanReport) in Set(report.flagged.prefix(planted.count).map(\.row)) }
        XCTAssertEqual(top(exact), Set(planted))
        XCTAssertEqual(top(approximate), Set(planted))
    }
}
