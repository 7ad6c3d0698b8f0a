import Foundation
@testable import HNSW
import VectorMath
import XCTest

/// Reachability: a node nothing links to on level 0 can never be returned. Loading a file
/// reconnects such nodes, and so does every batch insert of `fullRepairBatchMin` rows or more.
final class HNSWReachabilityTests: XCTestCase {
    /// Cuts every level-0 link into the level-0-only node `orphan`, as an island would leave it.
    private func isolate(_ orphan: UInt32, in index: HNSWIndex) {
        let view = index.storage.view
        for node in 0..<UInt32(index.count) where node != orphan {
            let list = view.links(node, level: 0)
            let degree = Int(list[0])
            guard let slot = (0..<degree).first(where: { list[1 + $0] == orphan }) else { continue }
            list[1 + slot] = list[degree]
            list[0] = UInt32(degree - 1)
            view.addInDegree(orphan, -1)
        }
    }

    private func levelZeroNode(_ index: HNSWIndex) throws -> UInt32 {
        try XCTUnwrap((1..<UInt32(index.count)).first { index.storage.levels[Int($0)] == 0 })
    }

    func testLoadingReconnectsUnreachableNodes() throws {
        let fixture = try Fixture(rows: 1_000, dimension: 16, metric: .cosine, queries: 10)
        let orphan = try levelZeroNode(fixture.index)
        isolate(orphan, in: fixture.index)
        XCTAssertTrue(fixture.index.integrityProblem()?.contains("unreachable") == true, fixture.index.integrityProblem() ?? "")
        let path = temporaryPath("orphan.fbhnsw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try fixture.index.save(to: path)
        let loaded = try HNSWIndex.load(from: path)
        XCTAssertNil(loaded.integrityProblem())
        let label = loaded.label(ofID: orphan)
        XCTAssertEqual(try loaded.search(try XCTUnwrap(loaded.vector(forLabel: label)), k: 1).first?.label, label)
    }

    func testABatchInsertReconnectsAnIslandItDidNotCause() throws {
        let fixture = try Fixture(rows: 2_000, dimension: 16, metric: .l2, queries: 10)
        let orphan = try levelZeroNode(fixture.index)
        isolate(orphan, in: fixture.index)
        // Its in-degree is now 0, but it was not a suspect of the next batch: only the full walk finds it.
        let batch = SyntheticData.gaussianClusters(rows: HNSWIndex.fullRepairBatchMin, dimension: 16, clusters: 4, seed: 9)
        try fixture.index.add(batch, labels: (0..<UInt64(batch.rows)).map { 1_000_000 + $0 })
        XCTAssertNil(fixture.index.integrityProblem(), "a batch far smaller than the index still walks it")
    }

    /// Found by the PostgreSQL-restart suite: one vector ingested again and again, a document
    /// at a time. Once there are more copies than a node has links, a copy links only to
    /// copies; when one of them becomes the entry point, everything else was an island that
    /// the suspects-only repair could not see. Every node must stay reachable (the insert
    /// checks it in this build) and be found by its own vector.
    func testSingleInsertsOfOneRepeatedVectorLeaveNothingUnreachable() throws {
        for metric in [Metric.cosine, .l2] {
            let index = try HNSWIndex(parameters: HNSWParameters(dimension: 8, metric: metric, m: 4, efConstruction: 32, efSearch: 32))
            let base = SyntheticData.gaussianClusters(rows: 40, dimension: 8, clusters: 4, seed: 5, normalized: metric == .cosine)
            for row in 0..<base.rows { try index.add(base.row(row), label: UInt64(row)) }
            let copy = base.row(1)
            for n in 0..<200 {
                try index.add(copy, label: 1_000 + UInt64(n))
                XCTAssertNil(index.integrityProblem(), "\(metric), after \(n + 1) copies")
            }
            for row in 0..<base.rows {
                let hits = try index.search(base.row(row), k: 1, ef: 64)
                let expected = row == 1 ? nil : UInt64(row)
                if let expected { XCTAssertEqual(hits.first?.label, expected, "\(metric): row \(row) is not found by its own vector") }
            }
        }
    }

    /// A collection with mirrored pages: every copy of a vector counts as finding itself,
    /// whichever copy the search returns; a vector that is absent does not.
    func testFindsItselfCountsACopyAsAHitAndNothingElse() throws {
        for metric in [Metric.cosine, .l2, .innerProduct] {
            let index = try HNSWIndex(parameters: HNSWParameters(dimension: 8, metric: metric, m: 4, efConstruction: 32))
            let base = SyntheticData.gaussianClusters(rows: 60, dimension: 8, clusters: 4, seed: 9, normalized: metric != .l2)
            for row in 0..<base.rows { try index.add(base.row(row), label: UInt64(row)) }
            for n in 0..<20 { try index.add(base.row(3), label: 1_000 + UInt64(n)) }
            for label in Array(0..<UInt64(base.rows)) + Array(1_000..<1_020) {
                XCTAssertTrue(try index.findsItself(label: label), "\(metric): label \(label)")
            }
            XCTAssertFalse(try index.findsItself(label: 99_999), "an unknown label is never found")
        }
    }
}
