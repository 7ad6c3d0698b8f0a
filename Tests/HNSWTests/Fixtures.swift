import Foundation
import HNSW
import VectorMath
import XCTest

/// A built index with its data, ready for oracle comparisons.
struct Fixture {
    let base: Matrix
    let queries: Matrix
    let index: HNSWIndex

    /// Clustered data, labels = row numbers, built on `threads` cores.
    init(rows: Int, dimension: Int, metric: Metric = .l2, queries: Int = 200, m: Int = 16,
         efConstruction: Int = 100, threads: Int = 2, seed: UInt64 = 42) throws {
        let normalized = metric == .cosine
        base = SyntheticData.gaussianClusters(rows: rows, dimension: dimension, clusters: 20, seed: seed,
                                              normalized: normalized)
        self.queries = SyntheticData.gaussianClusters(rows: queries, dimension: dimension, clusters: 20, seed: seed,
                                                      stream: 1, normalized: normalized)
        index = try HNSWIndex(parameters: HNSWParameters(dimension: dimension, metric: metric, m: m,
                                                         efConstruction: efConstruction, efSearch: 64),
                              capacity: rows)
        try index.add(base, labels: (0..<rows).map { UInt64($0) }, threads: threads)
    }

    /// Exact neighbours (labels) per query over the rows `allowed` admits: the oracle.
    func truth(k: Int, allowed: IDBitset? = nil) throws -> [[UInt64]] {
        let result = try ExactSearch.search(queries: queries, base: base, k: k, metric: index.parameters.metric,
                                            allowed: allowed)
        return (0..<queries.rows).map { q in result.neighbors(ofQuery: q).map { UInt64($0.id) } }
    }

    /// recall@k of the index against the oracle, plus every result list for further checks.
    func recall(k: Int, ef: Int, filter: IDBitset? = nil) throws -> (recall: Double, results: [[HNSWHit]]) {
        let expected = try truth(k: k, allowed: filter)
        var found = 0, total = 0
        var results: [[HNSWHit]] = []
        for q in 0..<queries.rows {
            let hits = try index.search(queries.row(q), k: k, ef: ef, filter: filter)
            results.append(hits)
            found += Set(hits.map(\.label)).intersection(expected[q]).count
            total += expected[q].count
        }
        return (Double(found) / Double(max(1, total)), results)
    }
}

func XCTAssertHNSWError(_ code: HNSWError.Code, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> Void) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual((error as? HNSWError)?.code, code, "\(error)", file: file, line: line)
    }
}

func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "firebreak-hnsw-\(getpid())-\(name)"
}
