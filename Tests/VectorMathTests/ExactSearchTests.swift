@testable import VectorMath
import XCTest

final class ExactSearchTests: XCTestCase {
    /// Brute force by the scalar metric: the oracle for the sgemm-tiled search.
    private func naive(_ queries: Matrix, _ base: Matrix, k: Int, metric: Metric, allowed: IDBitset?) -> [[UInt32]] {
        var answers: [[UInt32]] = []
        for q in 0..<queries.rows {
            let query = queries.row(q)
            var scored: [(id: UInt32, d: Float)] = []
            for id in 0..<base.rows where allowed?.contains(id) ?? true {
                scored.append((UInt32(id), metric.distance(query, base.row(id), dimension: base.dimension)))
            }
            scored.sort { $0.d != $1.d ? $0.d < $1.d : $0.id < $1.id }
            answers.append(scored.prefix(k).map(\.id))
        }
        return answers
    }

    /// Tiles in both directions (more base rows than one tile, queries not a multiple of the
    /// query tile) agree with brute force for every metric, with and without a filter.
    func testMatchesBruteForceAcrossTilesMetricsAndFilters() throws {
        let d = 19
        for metric in Metric.allCases {
            let base = SyntheticData.gaussianClusters(rows: ExactSearch.baseTileRows + 333, dimension: d, clusters: 7,
                                                      seed: 11, normalized: metric == .cosine)
            let queries = SyntheticData.gaussianClusters(rows: 37, dimension: d, clusters: 7, seed: 11, stream: 1,
                                                         normalized: metric == .cosine)
            var allowed = IDBitset(capacity: base.rows, filled: true)
            for id in stride(from: 0, to: base.rows, by: 3) { allowed.remove(id) }
            for filter in [nil, allowed] {
                let result = try ExactSearch.search(queries: queries, base: base, k: 7, metric: metric,
                                                    allowed: filter, threads: 2)
                let expected = naive(queries, base, k: 7, metric: metric, allowed: filter)
                var matches = 0
                for q in 0..<queries.rows {
                    let got = result.neighbors(ofQuery: q).map(\.id)
                    XCTAssertEqual(got.count, 7)
                    matches += Set(got).intersection(expected[q]).count
                    if let filter { XCTAssertTrue(got.allSatisfy { filter.contains(Int($0)) }) }
                }
                // Float rounding (sgemm vs. the kernel) may swap near-ties at the k-th place.
                XCTAssertGreaterThanOrEqual(Double(matches) / Double(queries.rows * 7), 0.99, "\(metric)")
            }
        }
    }

    func testReturnsFewerThanKOnlyWhenFewerAreAllowed() throws {
        let base = SyntheticData.gaussianClusters(rows: 50, dimension: 4, clusters: 2, seed: 1)
        let queries = SyntheticData.gaussianClusters(rows: 3, dimension: 4, clusters: 2, seed: 1, stream: 2)
        var allowed = IDBitset(capacity: 50, filled: false)
        allowed.insert(4)
        allowed.insert(40)
        let result = try ExactSearch.search(queries: queries, base: base, k: 10, metric: .l2, allowed: allowed)
        for q in 0..<3 { XCTAssertEqual(Set(result.neighbors(ofQuery: q).map(\.id)), [4, 40]) }
        let none = try ExactSearch.search(queries: queries, base: base, k: 10, metric: .l2,
                                          allowed: IDBitset(capacity: 50, filled: false))
        XCTAssertEqual(none.counts, [0, 0, 0])
    }

    func testRejectsBadArguments() {
        let base = SyntheticData.gaussianClusters(rows: 10, dimension: 4, clusters: 2, seed: 1)
        let wrong = SyntheticData.gaussianClusters(rows: 2, dimension: 5, clusters: 2, seed: 1)
        XCTAssertThrowsError(try ExactSearch.search(queries: wrong, base: base, k: 1, metric: .l2)) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .dimensionMismatch)
        }
        for k in [0, -1, ExactSearch.kMax + 1] {
            XCTAssertThrowsError(try ExactSearch.search(queries: base, base: base, k: k, metric: .l2)) {
                XCTAssertEqual(($0 as? VectorMathError)?.code, .invalidArgument)
            }
        }
        XCTAssertThrowsError(try ExactSearch.search(queries: base, base: base, k: 1, metric: .l2,
                                                    allowed: IDBitset(capacity: 3, filled: true))) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .invalidArgument)
        }
    }

    func testEmptyBaseAndEmptyQueries() throws {
        let empty = Matrix(zeroRows: 0, dimension: 3)
        let some = SyntheticData.gaussianClusters(rows: 4, dimension: 3, clusters: 1, seed: 1)
        XCTAssertEqual(try ExactSearch.search(queries: some, base: empty, k: 2, metric: .l2).counts, [0, 0, 0, 0])
        XCTAssertEqual(try ExactSearch.search(queries: empty, base: some, k: 2, metric: .l2).queryCount, 0)
    }
}
