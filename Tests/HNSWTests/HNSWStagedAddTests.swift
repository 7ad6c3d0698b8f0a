import Dispatch
import Foundation
import HNSW
import VectorMath
import XCTest

/// `stage` → `link` → `publish`/`abandon`: a batch links while searches run, and is served
/// from one moment on, or never.
final class HNSWStagedAddTests: XCTestCase {
    /// Half the rows built as usual, the other half staged. While the second half links,
    /// searches on other threads never return one of its rows and always find k results; once
    /// published, the index answers like one built in one go.
    func testAStagedBatchIsNeverServedWhileItLinksThenServedWhole() throws {
        let rows = 4_000, half = 2_000, dimension = 24
        let base = SyntheticData.gaussianClusters(rows: rows, dimension: dimension, clusters: 20, seed: 7, normalized: false)
        let queries = SyntheticData.gaussianClusters(rows: 100, dimension: dimension, clusters: 20, seed: 7, stream: 1,
                                                     normalized: false)
        let index = try HNSWIndex(parameters: HNSWParameters(dimension: dimension, metric: .l2, m: 16, efConstruction: 100,
                                                             efSearch: 64))
        try index.add(try slice(base, 0..<half), labels: (0..<half).map { UInt64($0) }, threads: 2)
        var batch = try index.stage(try slice(base, half..<rows), labels: (half..<rows).map { UInt64($0) })
        XCTAssertEqual(index.liveCount, half, "staged nodes are not live")

        let stop = Counter(), searches = Counter(), leaks = Counter(), short = Counter()
        let searchers = DispatchGroup()
        for worker in 0..<2 {
            DispatchQueue.global().async(group: searchers) {
                var q = worker
                while stop.value == 0 {
                    guard let hits = try? index.search(queries.row(q % queries.rows), k: 10, ef: 32) else { continue }
                    searches.add(1)
                    if hits.count != 10 { short.add(1) }
                    leaks.add(hits.filter { $0.label >= UInt64(half) }.count)
                    q += 2
                }
            }
        }
        index.link(&batch, threads: 2)
        stop.add(1)
        searchers.wait()
        XCTAssertGreaterThan(searches.value, 0, "searches ran while the batch linked")
        XCTAssertEqual(leaks.value, 0, "no staged row was served before its publish")
        XCTAssertEqual(short.value, 0)
        XCTAssertEqual(index.liveCount, half)

        index.publish(batch)
        XCTAssertNil(index.integrityProblem())
        XCTAssertEqual(index.liveCount, rows)
        let truth = try ExactSearch.search(queries: queries, base: base, k: 10, metric: .l2)
        var found = 0
        for q in 0..<queries.rows {
            let expected = Set(truth.neighbors(ofQuery: q).map { UInt64($0.id) })
            found += Set(try index.search(queries.row(q), k: 10, ef: 64).map(\.label)).intersection(expected).count
        }
        XCTAssertGreaterThanOrEqual(Double(found) / Double(queries.rows * 10), 0.95, "the published batch is navigable")
    }

    /// An abandoned batch (its write failed) is never served, linked or not; its labels stay
    /// taken like a deleted node's, and the next batch stages and publishes as usual.
    func testAnAbandonedBatchIsNeverServedAndTheNextOneIs() throws {
        let fixture = try Fixture(rows: 1_000, dimension: 16, queries: 30)
        let extra = SyntheticData.gaussianClusters(rows: 600, dimension: 16, clusters: 20, seed: 9, normalized: false)
        var linked = try fixture.index.stage(try slice(extra, 0..<300), labels: (1_000..<1_300).map { UInt64($0) })
        fixture.index.link(&linked, threads: 2)
        fixture.index.abandon(linked)
        let unlinked = try fixture.index.stage(try slice(extra, 300..<400), labels: (1_300..<1_400).map { UInt64($0) })
        fixture.index.abandon(unlinked)
        XCTAssertNil(fixture.index.integrityProblem())
        XCTAssertEqual(fixture.index.liveCount, 1_000)
        XCTAssertHNSWError(.duplicateLabel) { try fixture.index.add(try slice(extra, 0..<1), labels: [1_000]) }

        try fixture.index.add(try slice(extra, 400..<600), labels: (2_000..<2_200).map { UInt64($0) })
        XCTAssertEqual(fixture.index.liveCount, 1_200)
        for q in 0..<fixture.queries.rows {
            let hits = try fixture.index.search(fixture.queries.row(q), k: 10, ef: 64)
            XCTAssertEqual(hits.count, 10)
            XCTAssertTrue(hits.allSatisfy { $0.label < 1_000 || $0.label >= 2_000 }, "abandoned rows never come back")
        }
        let exact = try fixture.index.exactSearch(extra.row(0), k: 5)
        XCTAssertFalse(exact.contains { (1_000..<2_000).contains($0.label) }, "nor from the exact scan")
    }

    private func slice(_ matrix: Matrix, _ rows: Range<Int>) throws -> Matrix {
        try Matrix(rows: rows.count, dimension: matrix.dimension,
                   storage: rows.flatMap { matrix.row($0) })
    }
}

/// A counter shared by test threads.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add(_ n: Int) { lock.withLock { count += n } }
}
