import HNSW
import VectorMath
import XCTest

final class HNSWFilterTests: XCTestCase {
    /// At 10 / 50 / 90 % excluded: never an excluded id, always exactly k, recall ≥ 0.95.
    func testExcludedIdsNeverReturnedAndKAlwaysReached() throws {
        let fixture = try Fixture(rows: 10_000, dimension: 32, queries: 200)
        for percent in [10, 50, 90] {
            var rng = SplitMix64(seed: UInt64(percent))
            let excluded = (0..<10_000).filter { _ in Int(rng.next() % 100) < percent }.map { UInt64($0) }
            let filter = fixture.index.filter(excluding: excluded)
            let excludedSet = Set(excluded)
            let (recall, results) = try fixture.recall(k: 10, ef: 64, filter: filter)
            XCTAssertGreaterThanOrEqual(recall, 0.95, "\(percent)% excluded")
            XCTAssertTrue(results.allSatisfy { $0.count == 10 }, "\(percent)% excluded: short result")
            XCTAssertTrue(results.allSatisfy { $0.allSatisfy { !excludedSet.contains($0.label) } },
                          "\(percent)% excluded: an excluded id was returned")
        }
    }

    /// The exact search equals the oracle over the allowed rows, list for list (what a
    /// partition serves while its graph is rebuilt), and ignores the graph's edges.
    func testExactSearchEqualsTheOracleOverTheAllowedRows() throws {
        let fixture = try Fixture(rows: 3_000, dimension: 24, metric: .cosine, queries: 40)
        var rng = SplitMix64(seed: 9)
        let excluded = (0..<3_000).filter { _ in rng.next() % 3 == 0 }.map { UInt64($0) }
        let filter = fixture.index.filter(excluding: excluded)
        let truth = try fixture.truth(k: 10, allowed: filter)
        for q in 0..<fixture.queries.rows {
            XCTAssertEqual(try fixture.index.exactSearch(fixture.queries.row(q), k: 10, filter: filter).map(\.label), truth[q])
        }
        XCTAssertEqual(try fixture.index.exactSearch(fixture.queries.row(0), k: 5).count, 5)
        XCTAssertThrowsError(try fixture.index.exactSearch([1, 2], k: 5), "a wrong dimension is refused as in search")
    }

    func testEverythingExcludedReturnsNothing() throws {
        let fixture = try Fixture(rows: 500, dimension: 8, queries: 5)
        let filter = fixture.index.filter(allowing: [])
        XCTAssertEqual(try fixture.index.search(fixture.queries.row(0), k: 10, filter: filter), [])
    }

    func testFewerAllowedThanKReturnsExactlyTheAllowed() throws {
        let fixture = try Fixture(rows: 2_000, dimension: 8, queries: 5)
        let filter = fixture.index.filter(allowing: [3, 1999, 700])
        let hits = try fixture.index.search(fixture.queries.row(0), k: 10, filter: filter)
        XCTAssertEqual(Set(hits.map(\.label)), [3, 1999, 700])
    }

    /// A filter built before later inserts never admits the newer ids.
    func testOlderFilterDoesNotAdmitNewerIds() throws {
        let fixture = try Fixture(rows: 300, dimension: 4, queries: 1)
        let filter = fixture.index.filter(excluding: [])
        try fixture.index.add([100, 100, 100, 100], label: 5_000)
        let hits = try fixture.index.search([100, 100, 100, 100], k: 1, filter: filter)
        XCTAssertNotEqual(hits.first?.label, 5_000)
    }
}
