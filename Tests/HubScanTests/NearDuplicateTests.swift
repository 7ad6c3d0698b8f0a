import Foundation
@testable import HubScan
import VectorMath
import XCTest

/// Near-duplicate groups, on hand-made top-k lists and on real sentence embeddings: a seeded
/// sample of the man-page dev set (`Data/make_minilm_sample.py`: 2,531 passages of 183 whole
/// pages, all-MiniLM-L6-v2, and the 521 known-item queries answered inside it).
final class NearDuplicateTests: XCTestCase {
    private func unitRows(_ rows: [[Float]]) throws -> Matrix {
        var matrix = try Matrix(rows: rows.count, dimension: rows[0].count, storage: rows.flatMap { $0 })
        try matrix.normalizeRows()
        return matrix
    }

    /// Only pairs a query retrieved together are candidates, and only those at cosine ≥ 0.95
    /// join; groups chain through shared members.
    func testGroupsJoinAlikePairsThatAQueryRetrievedTogether() throws {
        let embeddings = try unitRows([
            [1, 0, 0, 0], [1, 0.05, 0, 0],   // 0, 1: alike, retrieved together
            [1, 0.1, 0.02, 0],               // 2: alike to 1, retrieved with 1 by another query
            [1, 0, 0.01, 0],                 // 3: alike to 0, never retrieved with it
            [0, 1, 0, 0], [0, 1, 0.5, 0],    // 4, 5: retrieved together, cosine 0.89
        ])
        let topRows: [Int32] = [0, 1, 4, /**/ 1, 2, -1, /**/ 4, 5, 3]
        let groups = NearDuplicates(topRows: topRows, k: 3, kthDistance: [0.5, 0.5, 0.5], embeddings: embeddings, metric: .cosine)
        XCTAssertEqual(groups.groups, [[0, 1, 2]])
        XCTAssertEqual(groups.unitOf, [0, 0, 0, 3, 4, 5])
        XCTAssertEqual(groups.units, [0, 3, 4, 5])
        XCTAssertTrue(groups.isGrouped(2))
        XCTAssertFalse(groups.isGrouped(3))
        XCTAssertEqual(groups.size(ofGroupOf: 1), 3)
    }

    /// Identical vectors are never grouped: the first already carries their hits alone.
    func testIdenticalCopiesAreNotGrouped() throws {
        let embeddings = try unitRows([[1, 0], [1, 0], [1, 0.05]])
        let groups = NearDuplicates(topRows: [0, 1, 2], k: 3, kthDistance: [0.5], embeddings: embeddings, metric: .cosine)
        XCTAssertEqual(groups.groups, [[0, 2]], "the near-copy joins, the identical copy stays alone")
    }

    /// A chain (each like the next, the ends not alike) does not become one group.
    func testAChainOfAlikePairsDoesNotMergeEndToEnd() throws {
        let angle = { (degrees: Float) -> [Float] in [cos(degrees * .pi / 180), sin(degrees * .pi / 180)] }
        // cos 10° = 0.985 between neighbours, cos 30° = 0.87 end to end.
        let embeddings = try unitRows([angle(0), angle(10), angle(20), angle(30)])
        let groups = NearDuplicates(topRows: [0, 1, 2, 3], k: 4, kthDistance: [0.5], embeddings: embeddings, metric: .cosine)
        XCTAssertEqual(groups.groups, [[0, 1], [2, 3]], "single linkage would make one group of all four")
    }

    /// On L2, alike is relative to the query's neighbourhood: a tight cluster far from the
    /// origin (all at cosine > 0.99) is not one group, two points far closer than the k-th
    /// neighbour are.
    func testOnL2AlikeIsRelativeToTheKthNeighbourDistance() throws {
        let embeddings = try Matrix(rows: 3, dimension: 2, storage: [100, 0, 101, 0, 100, 0.1])
        // Squared distances: 0–1 is 1, 0–2 is 0.01; the query's k-th distance is 1.
        let groups = NearDuplicates(topRows: [0, 1, 2], k: 3, kthDistance: [1], embeddings: embeddings, metric: .l2)
        XCTAssertEqual(groups.groups, [[0, 2]], "all three point the same way (cosine > 0.9999); only 0 and 2 are close")
    }

    /// A query counts once per unit, at its best-ranked member, and never for the unit it
    /// stands inside.
    func testAGroupIsHitOnceAtItsBestRankAndNotByItsOwnMembers() throws {
        let embeddings = try unitRows([[1, 0], [1, 0.1], [0, 1]])
        let groups = NearDuplicates(topRows: [0, 1, 2], k: 3, kthDistance: [0.5], embeddings: embeddings, metric: .cosine)
        XCTAssertEqual(groups.groups, [[0, 1]])
        // Query 0: the group at rank 0 and 1, row 2 at rank 2. Query 1 (drawn from row 1): its
        // own group left out. Query 2: row 2 first, the group second.
        let topRows: [Int32] = [0, 1, 2, /**/ 0, 2, -1, /**/ 2, 1, 0]
        let weighted = groups.rankWeighted(topRows: topRows, k: 3, own: [nil, 0, nil], queries: 0..<3)
        XCTAssertEqual(weighted[0], 1 + 1.0 / 2, accuracy: 1e-12)
        XCTAssertEqual(weighted[1], weighted[0], "members share their group's value")
        XCTAssertEqual(weighted[2], 1.0 / 3 + 1.0 / 2 + 1, accuracy: 1e-12)
    }

    // MARK: real embeddings

    private struct DevSample {
        let documents: Matrix
        let queries: Matrix
    }

    private func devSample() throws -> DevSample {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Data/minilm-sample")
        var documents = try MatrixFile.readFloats(folder.appendingPathComponent("doc_emb.f16.npy").path)
        var queries = try MatrixFile.readFloats(folder.appendingPathComponent("query_emb.f16.npy").path)
        try documents.normalizeRows()
        try queries.normalizeRows()
        return DevSample(documents: documents, queries: queries)
    }

    /// A hub aimed at the real traffic of one topic: the normalised mean of the `count` queries
    /// nearest to query `seedQuery` (a query-optimised hub in miniature).
    private func hub(_ sample: DevSample, seedQuery: Int, count: Int = 40) throws -> [Float] {
        let d = sample.queries.dimension
        let nearest = try ExactSearch.search(queries: try Matrix(rows: 1, dimension: d, storage: sample.queries.row(seedQuery)),
                                             base: sample.queries, k: count, metric: .cosine).neighbors(ofQuery: 0)
        var mean = [Float](repeating: 0, count: d)
        for neighbor in nearest { for (j, v) in sample.queries.row(Int(neighbor.id)).enumerated() { mean[j] += v } }
        let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return mean.map { $0 / norm }
    }

    /// `count` near-copies of `hub` at cosine ≈ 0.99 to it, none the hub itself.
    private func swarm(of hub: [Float], count: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        let spread = Float((1 / (0.99 * 0.99) - 1.0).squareRoot())
        return (0..<count).map { _ in
            let noise = (0..<hub.count).map { _ in rng.nextGaussian() / Float(hub.count).squareRoot() }
            let copy = zip(hub, noise).map { $0 + spread * $1 }
            let norm = copy.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return copy.map { $0 / norm }
        }
    }

    private func scan(_ documents: Matrix, plus planted: [[Float]], queries: Matrix) throws -> ScanReport {
        let all = try Matrix(rows: documents.rows + planted.count, dimension: documents.dimension,
                             storage: documents.storage + planted.flatMap { $0 })
        var options = HubScanner.Options()
        options.sampleSize = 2_000
        options.seed = 7
        return try HubScanner.scan(all, metric: .cosine, realQueries: queries, options: options)
    }

    /// 25 near-copies of one hub split its queries between them: each alone is retrieved by a
    /// fraction of them. Scored as one group, every member is flagged at the default threshold,
    /// about as strongly as the single hub, and the report names the group.
    func testASwarmOfNearCopiesIsFlaggedWholeAtTheDefaultThreshold() throws {
        let sample = try devSample()
        let n = sample.documents.rows
        let target = try hub(sample, seedQuery: 17)
        let single = try scan(sample.documents, plus: [target], queries: sample.queries)
        let alone = try XCTUnwrap(single.flagged.first { $0.row == n }, "the single hub is flagged (max z \(single.distribution.maxZ))")

        let report = try scan(sample.documents, plus: swarm(of: target, count: 25, seed: 3), queries: sample.queries)
        let members = report.flagged.filter { $0.row >= n }
        XCTAssertEqual(members.count, 25, "every member flagged; max z \(report.distribution.maxZ)")
        XCTAssertEqual(Set(members.map(\.group)), [n], "one group, named by its first row")
        XCTAssertEqual(Set(members.map(\.groupSize)), [25])
        XCTAssertGreaterThan(members[0].z, 0.6 * alone.z, "the swarm scores close to the hub it copies")
        let ownHits = members.map(\.explanation.rankWeightedHits).sorted()[members.count / 2]
        XCTAssertLessThan(ownHits, 0.5 * alone.explanation.rankWeightedHits,
                          "alone, the median member captures a fraction of the queries the hub does")
        XCTAssertGreaterThanOrEqual(report.nearDuplicateGroups ?? 0, 1)
    }

    /// An honest duplicate of an ordinary passage (a documentation mirror) is not flagged, and
    /// the clean sample stays quiet: at most one document flagged (the first copy of one rpc(3)
    /// passage mirrored 11 times, the answer to many real queries, at z ≈ 5.4). Identical
    /// copies are never grouped, so its mirrors are not flagged with it.
    func testAnHonestDuplicatePairIsNotFlaggedAndTheCleanSampleStaysQuiet() throws {
        let sample = try devSample()
        let n = sample.documents.rows
        let clean = try scan(sample.documents, plus: [], queries: sample.queries)
        XCTAssertLessThanOrEqual(clean.flagged.count, 1, "of \(n) passages; max z \(clean.distribution.maxZ)")
        XCTAssertEqual(clean.nearDuplicateGroups.map { $0 > 0 }, true, "the sample has near-duplicates that are not identical")
        let ordinary = 1_000
        let mirrored = try scan(sample.documents, plus: [sample.documents.row(ordinary)], queries: sample.queries)
        XCTAssertFalse(mirrored.flagged.contains { $0.row == n || $0.row == ordinary }, "an ordinary passage and its mirror")
    }

    /// After a scan of the clean sample, the ingest screen built with it holds the hub and
    /// each member of its swarm at the scan's threshold: arriving one by one against the
    /// collection, a near-copy takes the rank the hub would.
    func testTheIngestScreenHoldsTheHubAndItsCopiesArrivingAfterAScan() throws {
        let sample = try devSample()
        var options = HubScanner.Options()
        options.sampleSize = 2_000
        options.seed = 7
        let (_, screen) = try HubScanner.scanWithScreen(sample.documents, metric: .cosine, realQueries: sample.queries,
                                                         options: options)
        let target = try hub(sample, seedQuery: 17)
        let arriving = [target] + swarm(of: target, count: 5, seed: 4) + [sample.documents.row(1_000)]
        let verdicts = try screen.screen(try Matrix(rows: arriving.count, dimension: target.count, storage: arriving.flatMap { $0 }))
        for verdict in verdicts.dropLast() {
            XCTAssertGreaterThanOrEqual(verdict.z, options.threshold, "row \(verdict.row): \(verdict)")
        }
        XCTAssertLessThan(verdicts.last!.z, options.threshold, "an ordinary passage passes: \(verdicts.last!)")
    }

    /// The same seed gives the same report, groups included.
    func testAScanWithGroupsIsDeterministicForASeed() throws {
        let sample = try devSample()
        let planted = swarm(of: try hub(sample, seedQuery: 17), count: 5, seed: 9)
        var first = try scan(sample.documents, plus: planted, queries: sample.queries)
        var second = try scan(sample.documents, plus: planted, queries: sample.queries)
        first.timings = second.timings
        XCTAssertEqual(first, second)
    }
}
