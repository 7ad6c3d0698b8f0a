import HNSW
import VectorMath
import XCTest

final class HNSWRecallTests: XCTestCase {
    /// The headline floor: 20k × 64 clustered, L2, M=16, built on 2 threads, ef=64.
    func testRecallFloorOnClusteredData() throws {
        let fixture = try Fixture(rows: 20_000, dimension: 64, queries: 300, efConstruction: 200)
        XCTAssertNil(fixture.index.integrityProblem())
        let (recall, results) = try fixture.recall(k: 10, ef: 64)
        XCTAssertGreaterThanOrEqual(recall, 0.95, "recall@10 at ef=64")
        XCTAssertTrue(results.allSatisfy { $0.count == 10 })
        for hits in results { XCTAssertEqual(hits.map(\.distance), hits.map(\.distance).sorted(), "closest first") }
    }

    /// A single-threaded build and a concurrent one reach the same recall (the graphs differ).
    func testConcurrentBuildMatchesSingleThreadedRecall() throws {
        let serial = try Fixture(rows: 5_000, dimension: 32, threads: 1)
        let parallel = try Fixture(rows: 5_000, dimension: 32, threads: 2)
        XCTAssertNil(parallel.index.integrityProblem())
        let a = try serial.recall(k: 10, ef: 48).recall
        let b = try parallel.recall(k: 10, ef: 48).recall
        XCTAssertGreaterThanOrEqual(a, 0.95)
        XCTAssertGreaterThanOrEqual(b, 0.95)
        XCTAssertEqual(a, b, accuracy: 0.02)
    }

    func testEveryMetricFindsItsNeighbours() throws {
        for metric in Metric.allCases {
            let fixture = try Fixture(rows: 3_000, dimension: 24, metric: metric)
            XCTAssertNil(fixture.index.integrityProblem(), "\(metric)")
            XCTAssertGreaterThanOrEqual(try fixture.recall(k: 10, ef: 64).recall, 0.95, "\(metric)")
        }
    }

    /// A single-threaded build with a fixed seed is reproducible.
    func testSingleThreadedBuildIsDeterministic() throws {
        let a = try Fixture(rows: 1_000, dimension: 8, threads: 1)
        let b = try Fixture(rows: 1_000, dimension: 8, threads: 1)
        for q in 0..<20 {
            XCTAssertEqual(try a.index.search(a.queries.row(q), k: 5), try b.index.search(b.queries.row(q), k: 5))
        }
    }

    /// Inserts after the build are searchable at once and keep the graph valid.
    func testIncrementalInsertsAfterBuild() throws {
        let fixture = try Fixture(rows: 2_000, dimension: 16)
        let extra = SyntheticData.gaussianClusters(rows: 300, dimension: 16, clusters: 20, seed: 42, stream: 7)
        for r in 0..<extra.rows {
            try fixture.index.add(extra.row(r), label: UInt64(10_000 + r))
        }
        XCTAssertNil(fixture.index.integrityProblem())
        XCTAssertEqual(fixture.index.count, 2_300)
        var selfFound = 0
        for r in 0..<extra.rows where try fixture.index.search(extra.row(r), k: 1).first?.label == UInt64(10_000 + r) {
            selfFound += 1
        }
        XCTAssertGreaterThanOrEqual(selfFound, 297, "an inserted vector is its own nearest neighbour")
    }

    /// Degenerate sizes: n = 0, n = 1, k > n, dimension 1.
    func testDegenerateSizes() throws {
        let empty = try HNSWIndex(parameters: HNSWParameters(dimension: 3, metric: .l2))
        XCTAssertEqual(try empty.search([1, 2, 3], k: 5), [])
        XCTAssertNil(empty.integrityProblem())

        let one = try HNSWIndex(parameters: HNSWParameters(dimension: 3, metric: .l2))
        try one.add([1, 2, 3], label: 9)
        XCTAssertEqual(try one.search([0, 0, 0], k: 5).map(\.label), [9])
        XCTAssertNil(one.integrityProblem())

        let line = try HNSWIndex(parameters: HNSWParameters(dimension: 1, metric: .l2, m: 4))
        let values = (0..<500).map { Float($0) }
        try line.add(try Matrix(rows: 500, dimension: 1, storage: values), labels: (0..<500).map { UInt64($0) })
        XCTAssertNil(line.integrityProblem())
        XCTAssertEqual(Set(try line.search([250.2], k: 3).map(\.label)), [249, 250, 251])
        XCTAssertEqual(try line.search([3], k: 600).count, 500, "k > n returns all n")
    }

    func testAbsurdParametersAreRefused() {
        for (dimension, m, efC) in [(0, 16, 100), (HNSWParameters.dimensionMax + 1, 16, 100), (8, 1, 100),
                                    (8, 500, 100), (8, 16, 0)] {
            XCTAssertHNSWError(.invalidParameter) {
                _ = try HNSWIndex(parameters: HNSWParameters(dimension: dimension, metric: .l2, m: m,
                                                             efConstruction: efC))
            }
        }
    }
}
