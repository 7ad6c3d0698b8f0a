import FirebreakTestSupport
import Foundation
import Store
import XCTest

final class ChangeLogTests: XCTestCase {
    /// A collection of its own, created with its `collection_created` row (as the engine does).
    private func collection(on connection: Connection) throws -> Int64 {
        try connection.transaction { c in
            let record = try CollectionRecords.create(CollectionRecord(name: "log-\(UUID().uuidString.prefix(8))", dimension: 4,
                                                                       metric: "cosine", m: 16, efConstruction: 100, efSearch: 64),
                                                      on: c)
            try ChangeLog.append(.collectionCreated(name: record.name), collectionID: record.id, origin: "test", on: c)
            return record.id
        }
    }

    func testEveryKindRoundTripsThroughTheLog() throws {
        let connection = try TestCluster.owner()
        let id = try collection(on: connection)
        let changes: [Change] = [
            .documentsIngested(rowIDs: [1, 2, 3], held: [2], incidentID: "INC-1"),
            .documentsIngested(rowIDs: [4], held: [], incidentID: nil),
            .documentsDeleted(rowIDs: [3]),
            .documentsQuarantined(rowIDs: [1], incidentID: "INC-2"),
            .documentsReleased(rowIDs: [1]),
            .flagSet(flag: "FF_INDEX_FREEZE", tenant: "", enabled: true),
            .partitionRebuilt(tenant: "acme", jobID: 7, graphFile: "c1/rebuilt/j7-acme.hnsw", graphSHA256: "ab"),
            .partitionRebuilt(tenant: "beta", jobID: 8, graphFile: nil, graphSHA256: nil),
            .rebuildStarted(tenants: ["acme", "beta"], jobID: 9),
            .rebuildEnded(tenants: ["acme"], jobID: 9, state: "cancelled"),
            .rolledBack(snapshotID: "s1-x", tenants: ["acme", "beta"], retired: [4]),
            .goldenQueriesReplaced(queries: 12),
            .scanScheduleChanged(policy: "auto-contain", enabled: true),
        ]
        let start = try ChangeLog.head(on: connection)
        let seqs = try connection.transaction { c in
            try changes.map { try ChangeLog.append($0, collectionID: id, origin: "replica-a", on: c) }
        }
        XCTAssertEqual(seqs, seqs.sorted())
        let read = try ChangeLog.read(after: start, collectionID: id, on: connection)
        XCTAssertEqual(read.map(\.change), changes)
        XCTAssertEqual(read.map(\.seq), seqs)
        XCTAssertTrue(read.allSatisfy { $0.origin == "replica-a" && $0.collectionID == id })
        XCTAssertGreaterThanOrEqual(try ChangeLog.head(on: connection), seqs.last!)
    }

    /// Two writers: the first appends and holds its transaction open; the second appends and
    /// commits at once. The second cannot draw its seq until the first ends, so a reader never
    /// sees the second's row without the first's, and reading `seq > last applied` skips nothing.
    func testAChangeCommittedWhileAnEarlierOneIsOpenIsNeverReadBeforeIt() throws {
        let setup = try TestCluster.owner()
        let id = try collection(on: setup)
        let start = try ChangeLog.head(on: setup)
        // The first writer appends, then holds its transaction open until told to commit.
        let appended = DispatchSemaphore(value: 0), commit = DispatchSemaphore(value: 0), firstDone = DispatchSemaphore(value: 0)
        let firstSeqBox = LockedValue<Int64?>(nil)
        Thread {
            defer { firstDone.signal() }
            guard let first = try? TestCluster.owner() else { appended.signal(); return }
            _ = try? first.transaction { c in
                firstSeqBox.set(try ChangeLog.append(.documentsDeleted(rowIDs: [1]), collectionID: id, origin: "a", on: c))
                appended.signal()
                commit.wait()
            }
        }.start()
        appended.wait()
        let firstSeq = try XCTUnwrap(firstSeqBox.get())

        let secondDone = DispatchSemaphore(value: 0)
        let secondSeq = LockedValue<Int64?>(nil)
        let thread = Thread {
            defer { secondDone.signal() }
            guard let second = try? TestCluster.owner() else { return }
            secondSeq.set(try? second.transaction { c in
                try ChangeLog.append(.documentsDeleted(rowIDs: [2]), collectionID: id, origin: "b", on: c)
            })
        }
        thread.start()
        XCTAssertEqual(secondDone.wait(timeout: .now() + 0.5), .timedOut, "the second append waits for the first transaction")
        let reader = try TestCluster.owner()
        XCTAssertEqual(try ChangeLog.read(after: start, collectionID: id, on: reader).count, 0, "nothing is visible yet")

        commit.signal()
        XCTAssertEqual(firstDone.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(secondDone.wait(timeout: .now() + 10), .success)
        let rows = try ChangeLog.read(after: start, collectionID: id, on: reader)
        XCTAssertEqual(rows.map(\.seq), [firstSeq, try XCTUnwrap(secondSeq.get())])
        XCTAssertLessThan(firstSeq, try XCTUnwrap(secondSeq.get()))
    }

    /// A rolled-back append leaves a gap, never a row that appears later.
    func testARolledBackAppendLeavesAGapAndNothingElse() throws {
        let connection = try TestCluster.owner()
        let id = try collection(on: connection)
        let start = try ChangeLog.head(on: connection)
        struct Abort: Error {}
        XCTAssertThrowsError(try connection.transaction { c in
            try ChangeLog.append(.documentsDeleted(rowIDs: [9]), collectionID: id, origin: "a", on: c)
            throw Abort()
        })
        let kept = try connection.transaction { c in
            try ChangeLog.append(.documentsDeleted(rowIDs: [10]), collectionID: id, origin: "a", on: c)
        }
        XCTAssertEqual(try ChangeLog.read(after: start, collectionID: id, on: connection).map(\.change),
                       [.documentsDeleted(rowIDs: [10])])
        XCTAssertEqual(try ChangeLog.read(after: start, collectionID: id, on: connection).map(\.seq), [kept])
    }

    /// A row this build cannot read is an error that names it (the replica stops there).
    func testAnUnreadableRowIsRefusedByName() throws {
        let connection = try TestCluster.owner()
        let id = try collection(on: connection)
        let start = try ChangeLog.head(on: connection)
        let seq = try connection.query("""
            INSERT INTO changes (collection_id, kind, version, payload, origin) VALUES ($1, 'documents_deleted', 99, '{}', 'x')
            RETURNING seq
            """, [.integer(id)])[0].integer("seq")
        XCTAssertStoreError(.decodingFailed) { _ = try ChangeLog.read(after: start, collectionID: id, on: connection) }
        do {
            _ = try ChangeLog.read(after: start, collectionID: id, on: connection)
        } catch let error as StoreError {
            XCTAssertTrue(error.message.contains("change \(seq)"), error.message)
        }
        try connection.query("DELETE FROM changes WHERE seq = $1", [.integer(seq)])
    }

    /// A record's own transaction joins the caller's: the change and the record commit or
    /// roll back together.
    func testANestedTransactionJoinsTheOuterOne() throws {
        let connection = try TestCluster.owner()
        let id = try collection(on: connection)
        let start = try ChangeLog.head(on: connection)
        struct Abort: Error {}
        XCTAssertFalse(connection.inTransaction)
        XCTAssertThrowsError(try connection.transaction { outer in
            try outer.transaction { inner in
                XCTAssertTrue(inner.inTransaction)
                _ = try ChangeLog.append(.documentsDeleted(rowIDs: [1]), collectionID: id, origin: "a", on: inner)
            }
            throw Abort()
        })
        XCTAssertFalse(connection.inTransaction)
        XCTAssertTrue(try ChangeLog.read(after: start, collectionID: id, on: connection).isEmpty,
                      "the inner call did not commit on its own")
    }

    /// Truncation deletes the rows below a position and raises the floor to it; the floor
    /// never moves down, and rows at or above it stay readable.
    func testTruncationRaisesTheFloorAndKeepsTheRowsAboveIt() throws {
        let connection = try TestCluster.owner()
        let id = try collection(on: connection)
        let changes: [Change] = [.partitionRebuilt(tenant: "acme", jobID: 1, graphFile: "c\(id)/rebuilt/j1-acme.hnsw", graphSHA256: "00"),
                                 .documentsDeleted(rowIDs: [1]), .documentsDeleted(rowIDs: [2])]
        let seqs = try changes.map { change in
            try connection.transaction { c in try ChangeLog.append(change, collectionID: id, origin: "test", on: c) }
        }
        let before = try ChangeLog.floor(on: connection)
        XCTAssertLessThanOrEqual(before, seqs[0])
        let removed = try ChangeLog.truncate(below: seqs[1], on: connection)
        XCTAssertGreaterThanOrEqual(removed.rows, 1, "at least seqs[0] is removed")
        XCTAssertTrue(removed.graphFiles.contains("c\(id)/rebuilt/j1-acme.hnsw"), "the rebuilt graph its row named: \(removed.graphFiles)")
        XCTAssertEqual(try ChangeLog.floor(on: connection), seqs[1])
        XCTAssertEqual(try ChangeLog.read(after: seqs[0] - 1, collectionID: id, on: connection).map(\.seq), [seqs[1], seqs[2]])
        XCTAssertEqual(try ChangeLog.truncate(below: seqs[0], on: connection).rows, 0)
        XCTAssertEqual(try ChangeLog.floor(on: connection), seqs[1], "the floor never moves down")
    }

    func testReplicasRecordTheirHeartbeat() throws {
        let connection = try TestCluster.owner()
        let name = "hb-\(UUID().uuidString.prefix(8))"
        try ReplicaRecords.heartbeat(name: name, appliedSeq: 42, problem: nil, on: connection)
        try ReplicaRecords.heartbeat(name: name, appliedSeq: 43, problem: "change 44: bad", on: connection)
        let mine = try XCTUnwrap(try ReplicaRecords.all(on: connection).first { $0.name == name })
        XCTAssertEqual(mine.appliedSeq, 43)
        XCTAssertEqual(mine.problem, "change 44: bad")
        XCTAssertLessThan(mine.silentSeconds, 5)
    }
}

/// A value shared with a thread.
final class LockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func get() -> T { lock.withLock { value } }
    func set(_ next: T) { lock.withLock { value = next } }
    func update(_ change: (inout T) -> Void) { lock.withLock { change(&value) } }
}

final class ScheduleClaimTests: XCTestCase {
    /// A due run is claimed by exactly one of the replicas asking at once, and the next one
    /// is a period away.
    func testEachDueRunIsClaimedOnce() throws {
        let setup = try TestCluster.owner()
        let record = try CollectionRecords.create(CollectionRecord(name: "sched-\(UUID().uuidString.prefix(8))", dimension: 4,
                                                                   metric: "cosine", m: 16, efConstruction: 100, efSearch: 64),
                                                  on: setup)
        try ScheduleRecords.put(ScheduleRecord(collectionID: record.id, everySeconds: 60, policy: "alert", optionsJSON: "{}",
                                               enabled: true), actor: "test", on: setup)
        XCTAssertFalse(try ScheduleRecords.claimDueRun(collectionID: record.id, on: setup), "the first run is a period away")
        try setup.query("UPDATE scan_schedules SET next_run_at = now() - interval '1 second' WHERE collection_id = $1",
                        [.integer(record.id)])
        let claims = LockedValue(0), id = record.id
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            guard let replica = try? TestCluster.owner() else { return }
            if (try? ScheduleRecords.claimDueRun(collectionID: id, on: replica)) == true { claims.update { $0 += 1 } }
        }
        XCTAssertEqual(claims.get(), 1, "one replica runs the scan")
        XCTAssertFalse(try ScheduleRecords.claimDueRun(collectionID: record.id, on: setup))
        try ScheduleRecords.put(ScheduleRecord(collectionID: record.id, everySeconds: 60, policy: "alert", optionsJSON: "{}",
                                               enabled: false), actor: "test", on: setup)
        try setup.query("UPDATE scan_schedules SET next_run_at = now() - interval '1 second' WHERE collection_id = $1",
                        [.integer(record.id)])
        XCTAssertFalse(try ScheduleRecords.claimDueRun(collectionID: record.id, on: setup), "a disabled schedule never runs")
    }
}
