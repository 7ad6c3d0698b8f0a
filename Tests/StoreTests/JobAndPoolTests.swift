import FirebreakTestSupport
import Foundation
import Store
import XCTest

/// Jobs belong to the replica that runs them: a restart fails only its own, and a job whose
/// heartbeat stopped is failed by anyone.
final class JobOwnershipTests: XCTestCase {
    func testARestartFailsOnlyItsOwnJobsAndSilentOnesAreOrphaned() throws {
        let c = try TestCluster.owner()
        let collection = try CollectionRecords.create(CollectionRecord(name: "jobs-\(UUID().uuidString.prefix(8))", dimension: 4,
                                                                       metric: "cosine", m: 16, efConstruction: 100, efSearch: 64), on: c)
        let (incident, _) = try IncidentRecords.declare(title: "jobs", severity: .sev3, taxonomyClass: .corpus, reporter: "test",
                                                        detectedAt: Date(), on: c)
        func job(_ owner: String) throws -> Int64 {
            let id = try JobRecords.create(kind: "rebuild", collectionID: collection.id, tenant: nil, incidentID: incident.id,
                                           owner: owner, on: c)
            try JobRecords.start(id, on: c)
            return id
        }
        let mine = try job("replica-a"), theirs = try job("replica-b"), silent = try job("replica-c")
        let failed = try JobRecords.failInterrupted(owner: "replica-a", on: c)
        XCTAssertTrue(failed.contains(mine))
        XCTAssertFalse(failed.contains(theirs), "another replica's running job goes on")
        XCTAssertTrue(try JobRecords.isOpen(theirs, on: c))
        try c.query("UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1", [.integer(silent)])
        let orphaned = try JobRecords.failOrphaned(on: c)
        XCTAssertTrue(orphaned.contains(silent))
        XCTAssertFalse(orphaned.contains(theirs))
        XCTAssertTrue(try JobRecords.load(silent, on: c)?.error?.contains("orphaned: replica-c") ?? false)
        try JobRecords.progress(theirs, 0.5, on: c)
        XCTAssertTrue(try JobRecords.finish(theirs, state: "succeeded", on: c))
    }
}

/// Waiting for a connection is bounded: past the pool's wait, `poolExhausted`, never a hang.
final class PoolWaitTests: XCTestCase {
    func testABorrowerWaitsAtMostTheConfiguredTimeThenGetsBusy() async throws {
        let pool = ConnectionPool(conninfo: try TestCluster.shared().conninfo(), size: 1, waitSeconds: 0.3)
        let holding = Task { try await pool.withConnection { _ in Thread.sleep(forTimeInterval: 1.5) } }
        try await Task.sleep(for: .milliseconds(200))
        let started = Date()
        do {
            _ = try await pool.withConnection { try $0.query("SELECT 1") }
            XCTFail("the only connection was busy")
        } catch let error as StoreError {
            XCTAssertEqual(error.code, .poolExhausted)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.2, "it gave up after its wait, before the holder finished")
        try await holding.value
        let rows = try await pool.withConnection { try $0.query("SELECT 1 AS one").count }
        XCTAssertEqual(rows, 1, "the pool serves again once the connection is back")
    }
}
