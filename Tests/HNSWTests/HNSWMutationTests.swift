import HNSW
import VectorMath
import XCTest

final class HNSWMutationTests: XCTestCase {
    func testDeletedVectorsAreNeverReturnedAndCompactionDropsThem() throws {
        let fixture = try Fixture(rows: 3_000, dimension: 16, queries: 50)
        let deleted = Set((0..<3_000).filter { $0 % 4 == 0 }.map { UInt64($0) })
        for label in deleted { try fixture.index.delete(label: label) }
        XCTAssertNil(fixture.index.integrityProblem())
        XCTAssertEqual(fixture.index.liveCount, 3_000 - deleted.count)
        for q in 0..<fixture.queries.rows {
            let hits = try fixture.index.search(fixture.queries.row(q), k: 10)
            XCTAssertEqual(hits.count, 10)
            XCTAssertTrue(hits.allSatisfy { !deleted.contains($0.label) })
        }
        let compacted = try fixture.index.compacted()
        XCTAssertNil(compacted.integrityProblem())
        XCTAssertEqual(compacted.count, 3_000 - deleted.count)
        XCTAssertEqual(compacted.deletedCount, 0)
        XCTAssertNil(compacted.id(forLabel: 0))
        XCTAssertNotNil(compacted.id(forLabel: 1))
        let oracle = fixture.index.filter(excluding: deleted)
        let truth = try fixture.truth(k: 10, allowed: oracle)
        var found = 0
        for q in 0..<fixture.queries.rows {
            found += Set(try compacted.search(fixture.queries.row(q), k: 10, ef: 64).map(\.label))
                .intersection(truth[q]).count
        }
        XCTAssertGreaterThanOrEqual(Double(found) / Double(fixture.queries.rows * 10), 0.95)
    }

    /// A copy answers exactly as the original did when it was taken, verifies, and does not
    /// change when the original does (what a snapshot writes out while writers resume).
    func testACopyIsFrozenAtTheMomentItWasTaken() throws {
        let fixture = try Fixture(rows: 1_500, dimension: 16, queries: 20)
        for label in stride(from: 0, to: 1_500, by: 7) { try fixture.index.delete(label: UInt64(label)) }
        let before = try (0..<fixture.queries.rows).map { try fixture.index.search(fixture.queries.row($0), k: 10, ef: 64) }
        let copy = HNSWIndex(copying: fixture.index)
        for label in stride(from: 1, to: 1_500, by: 5) where label % 7 != 0 { try fixture.index.delete(label: UInt64(label)) }
        try fixture.index.add(fixture.queries.row(0), label: 99_999)
        XCTAssertNil(copy.integrityProblem())
        XCTAssertEqual(copy.count, 1_500)
        XCTAssertEqual(copy.liveCount, 1_500 - 215)
        XCTAssertNil(copy.id(forLabel: 99_999))
        for q in 0..<fixture.queries.rows {
            let hits = try copy.search(fixture.queries.row(q), k: 10, ef: 64)
            XCTAssertEqual(hits.map(\.label), before[q].map(\.label))
            XCTAssertEqual(hits.map(\.distance), before[q].map(\.distance))
        }
        XCTAssertNotEqual(try fixture.index.search(fixture.queries.row(0), k: 1).first?.label,
                          try copy.search(fixture.queries.row(0), k: 1).first?.label, "the original moved on; the copy did not")
    }

    func testDeletingUnknownOrDeletedLabelsFails() throws {
        let fixture = try Fixture(rows: 100, dimension: 4, queries: 1)
        XCTAssertHNSWError(.unknownLabel) { try fixture.index.delete(label: 12345) }
        try fixture.index.delete(label: 5)
        XCTAssertHNSWError(.unknownLabel) { try fixture.index.delete(label: 5) }
        XCTAssertEqual(fixture.index.deletedCount, 1)
    }

    /// Every bad input is a typed error and leaves the index exactly as it was.
    func testBadInputIsRefusedAndChangesNothing() throws {
        let fixture = try Fixture(rows: 200, dimension: 4, queries: 3)
        let index = fixture.index
        let before = try index.search(fixture.queries.row(0), k: 5)
        XCTAssertHNSWError(.dimensionMismatch) { try index.add([1, 2, 3], label: 1_000) }
        XCTAssertHNSWError(.nonFiniteValue) { try index.add([1, .nan, 3, 4], label: 1_000) }
        XCTAssertHNSWError(.nonFiniteValue) { try index.add([1, .infinity, 3, 4], label: 1_000) }
        XCTAssertHNSWError(.duplicateLabel) { try index.add([1, 2, 3, 4], label: 7) }
        let batch = try Matrix(rows: 2, dimension: 4, storage: [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertHNSWError(.duplicateLabel) { try index.add(batch, labels: [2_000, 2_000]) }
        let poisoned = try Matrix(rows: 2, dimension: 4, storage: [1, 2, 3, 4, 5, .nan, 7, 8])
        XCTAssertHNSWError(.nonFiniteValue) { try index.add(poisoned, labels: [3_000, 3_001]) }
        XCTAssertHNSWError(.invalidParameter) { try index.add(batch, labels: [4_000]) }
        XCTAssertEqual(index.count, 200)
        XCTAssertNil(index.id(forLabel: 3_000))
        XCTAssertNil(index.integrityProblem())

        XCTAssertHNSWError(.dimensionMismatch) { _ = try index.search([1, 2], k: 5) }
        XCTAssertHNSWError(.nonFiniteValue) { _ = try index.search([1, 2, .nan, 4], k: 5) }
        for k in [0, -3, HNSWIndex.kMax + 1] {
            XCTAssertHNSWError(.invalidK) { _ = try index.search([1, 2, 3, 4], k: k) }
        }
        XCTAssertHNSWError(.invalidParameter) { _ = try index.search([1, 2, 3, 4], k: 5, ef: 0) }
        XCTAssertEqual(try index.search(fixture.queries.row(0), k: 5), before)
    }

    func testCosineRefusesZeroVectors() throws {
        let index = try HNSWIndex(parameters: HNSWParameters(dimension: 3, metric: .cosine))
        XCTAssertHNSWError(.zeroVector) { try index.add([0, 0, 0], label: 1) }
        try index.add([1, 0, 0], label: 2)
        XCTAssertHNSWError(.zeroVector) { _ = try index.search([0, 0, 0], k: 1) }
        XCTAssertEqual(index.count, 1)
    }
}
