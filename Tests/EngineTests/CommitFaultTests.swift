@testable import Engine
import FirebreakTestSupport
import Foundation
import Store
import XCTest

/// Failures at COMMIT (issue 17): refused (rolled back, and said so) or lost (committed, the
/// answer never came). A writer never assumes which: it asks the record. A quarantine stays
/// withheld until the record answers; when it cannot be asked, the collection refuses writes
/// and says why, and a restart repairs it from PostgreSQL.
final class CommitFaultTests: XCTestCase {
    private func fresh(_ label: String, poolSize: Int = 2) async throws -> (ConnectionPool, LiveCollections, LiveCollection, String) {
        let pool = ConnectionPool(conninfo: try TestCluster.shared().conninfo(), size: poolSize)
        let collections = try await LiveCollections.open(pool: pool, snapshotRoot: snapshotRoot)
        let name = "\(label)-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let collection = try await collections.create(CollectionConfiguration(name: name, dimension: 2, metric: .l2))
        _ = try await collections.ingest([NewDocument(externalID: "a", tenant: "t", text: "alpha", embedding: [1, 0]),
                                          NewDocument(externalID: "b", tenant: "t", text: "beta", embedding: [0, 1])], into: collection)
        return (pool, collections, collection, name)
    }

    private func served(_ collection: LiveCollection) throws -> Set<String> {
        Set(try collection.search(SearchRequest(mode: .vector, vector: [1, 0], k: 10, tenant: "t")).hits.map(\.externalID))
    }

    private func quarantineA(_ collections: LiveCollections, _ collection: LiveCollection) async throws -> QuarantineOutcome {
        try await collections.quarantine(["a"], in: collection, scope: nil, reason: "commit fault",
                                         incident: .declare(title: "commit fault", severity: .sev3), actor: "test")
    }

    func testARefusedCommitLeavesNothingWithheldAndNothingRecorded() async throws {
        let (pool, collections, collection, name) = try await fresh("commit-refused")
        EngineFaults.arm(.commitRefused)
        defer { EngineFaults.disarm(.commitRefused) }
        let error = await XCTAssertThrowsAsync { _ = try await self.quarantineA(collections, collection) }
        XCTAssertEqual((error as? EngineError)?.code, .storeFailed)
        XCTAssertEqual(try served(collection), ["a", "b"])
        XCTAssertNil(collection.integrityProblem())
        XCTAssertNil(collection.writeRefusal)
        await assertEqual(try await LiveCollections.open(pool: pool, snapshotRoot: snapshotRoot).named(name).status().quarantined, 0,
                          "the record agrees: nothing committed")
    }

    /// An ingest into a partition that exists links its vectors while PostgreSQL stores them
    /// (staged, tombstoned). A batch that fails before its change is appended, or whose COMMIT
    /// is refused, abandons them: none is ever served, the memory matches the record, and the
    /// same documents ingested again afterwards are served once.
    func testAFailedIngestIsNeverServedAndTheSameBatchLaterIs() async throws {
        let (pool, collections, collection, name) = try await fresh("ingest-failed")
        let batch = (0..<300).map { NewDocument(externalID: "r\($0)", tenant: "t", text: "refused \($0)",
                                                embedding: [1, Float($0 + 1) / 300]) }
        for fault in [EngineFault.ingestIndex, .commitRefused] {
            EngineFaults.arm(fault)
            let error = await XCTAssertThrowsAsync { _ = try await collections.ingest(batch, into: collection) }
            EngineFaults.disarm(fault)
            XCTAssertNotNil(error as? EngineError, "\(fault)")
            XCTAssertEqual(try served(collection), ["a", "b"], "\(fault): nothing of the failed batch is served")
            XCTAssertEqual(collection.status().documents, 2)
            XCTAssertNil(collection.integrityProblem())
        }
        _ = try await collections.ingest(batch, into: collection)
        XCTAssertEqual(collection.status().documents, 302)
        let hits = try collection.search(SearchRequest(mode: .vector, vector: [1, 0.5], k: 20, tenant: "t")).hits
        XCTAssertEqual(hits.count, 20)
        XCTAssertEqual(Set(hits.map(\.externalID)).count, 20, "each document is served once")
        XCTAssertTrue(hits.contains { $0.externalID == "r149" }, "the nearest document is found")
        XCTAssertNil(collection.integrityProblem())
        await assertEqual(try await LiveCollections.open(pool: pool, snapshotRoot: snapshotRoot).named(name).status().documents, 302,
                          "the record agrees")
    }

    func testALostCommitAnswerIsResolvedFromTheRecordAndTheWriteSucceeds() async throws {
        let (pool, collections, collection, name) = try await fresh("commit-lost")
        EngineFaults.arm(.commitAnswerLost)
        defer { EngineFaults.disarm(.commitAnswerLost) }
        let outcome = try await quarantineA(collections, collection)
        XCTAssertEqual(outcome.changed, ["a"], "the committed quarantine is answered as done")
        XCTAssertEqual(try served(collection), ["b"])
        XCTAssertNil(collection.integrityProblem())
        XCTAssertNil(collection.writeRefusal)
        // An ingest whose answer is lost: its documents are indexed once, from what it prepared.
        EngineFaults.arm(.commitAnswerLost)
        _ = try await collections.ingest([NewDocument(externalID: "c", tenant: "t", text: "gamma", embedding: [0.9, 0.1])], into: collection)
        XCTAssertEqual(try served(collection), ["b", "c"])
        XCTAssertNil(collection.integrityProblem())
        let reloaded = try await LiveCollections.open(pool: pool, snapshotRoot: snapshotRoot).named(name)
        XCTAssertEqual(reloaded.status().quarantined, 1)
        XCTAssertEqual(reloaded.status().documents, 3)
    }

    func testWhenTheRecordCannotBeAskedTheHoldStaysAndWritesAreRefusedUntilARestart() async throws {
        let (pool, collections, collection, name) = try await fresh("commit-unknown")
        EngineFaults.arm(.commitAnswerLost)
        EngineFaults.arm(.commitCheck)
        defer { EngineFaults.disarm(.commitAnswerLost); EngineFaults.disarm(.commitCheck) }
        let error = await XCTAssertThrowsAsync { _ = try await self.quarantineA(collections, collection) }
        XCTAssertEqual((error as? EngineError)?.code, .storeFailed)
        EngineFaults.disarm(.commitCheck)
        XCTAssertFalse(try served(collection).contains("a"), "fail closed: what the write withheld stays withheld")
        let refusal = try XCTUnwrap(collection.writeRefusal)
        XCTAssertTrue(refusal.contains("COMMIT got no answer"), refusal)
        let refused = await XCTAssertThrowsAsync {
            _ = try await collections.ingest([NewDocument(externalID: "d", tenant: "t", text: "delta", embedding: [1, 1])], into: collection)
        }
        XCTAssertTrue((refused as? EngineError)?.message.contains("until a restart") ?? false, "\(String(describing: refused))")
        // A restart loads from PostgreSQL: the quarantine committed, writes are taken again.
        let restarted = try await LiveCollections.open(pool: pool, snapshotRoot: snapshotRoot)
        let repaired = try restarted.named(name)
        XCTAssertNil(repaired.writeRefusal)
        XCTAssertEqual(try served(repaired), ["b"])
        _ = try await restarted.ingest([NewDocument(externalID: "d", tenant: "t", text: "delta", embedding: [1, 1])], into: repaired)
        XCTAssertEqual(repaired.status().documents, 3)
    }
}
