@testable import Engine
import FirebreakAPI
import FirebreakTestSupport
import Foundation
import ObjectStore
import Server
import Snapshots
import Store
import XCTest

/// Replicas over one PostgreSQL and one snapshot folder: every change goes through the
/// change log, and a read that names a write's `seq` sees its effect on any replica.
final class ReplicationTests: XCTestCase {
    /// The `seq` of a mutating reply, checked against its `Firebreak-Seq` header.
    private func seq(_ reply: APIClient.Reply, file: StaticString = #filePath, line: UInt = #line) throws -> Int64 {
        XCTAssertTrue(reply.isSuccess, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        let body = try XCTUnwrap(try reply.object()["seq"] as? Int, "no seq in \(String(decoding: reply.body, as: UTF8.self))",
                                 file: file, line: line)
        XCTAssertEqual(reply.header("Firebreak-Seq"), String(body), file: file, line: line)
        return Int64(body)
    }

    private func search(_ client: APIClient, _ collection: String, _ body: [String: Any], minSeq: Int64,
                        file: StaticString = #filePath, line: UInt = #line) async throws -> [(id: String, score: Double)] {
        var request = body
        request["min_seq"] = minSeq
        let reply = try await client.post("/v1/collections/\(collection)/search", request)
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self), file: file, line: line)
        return (try reply.object()["results"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0["score"] as? Double ?? 0) }
    }

    private func documentStatus(_ client: APIClient, _ collection: String, _ id: String, minSeq: Int64) async throws -> Int {
        try await client.get("/v1/collections/\(collection)/documents/\(id)?min_seq=\(minSeq)").status
    }

    func testEveryChangeOnOneReplicaIsVisibleOnTheOthersAtItsSeq() async throws {
        let a = try await Harness.start(replica: "repl-a")
        let said = LockedLines()
        let b = try await Harness.start(replica: "repl-b") { said.append($0) }
        let c = try await Harness.start(replica: "repl-c")
        let others = [b.admin, c.admin]
        let name = "c\(getpid())-\(UUID().uuidString.prefix(8))"
        let path = "/v1/collections/\(name)"

        // Created on A: the others answer for it at its seq.
        let created = try seq(try await a.admin.post("/v1/collections", ["name": name, "dimension": 8, "metric": "cosine"]))
        for client in others { await assertEqual(try await search(client, name, ["query": "alpha", "tenant": "acme"], minSeq: created).count, 0) }

        // Ingested on A: the same documents, identical lexical answers, near-identical vector ones.
        let docs = documents(tenant: "acme", count: 80, dimension: 8, seed: 91)
        let ingested = try seq(try await a.admin.post(path + "/documents", ["documents": docs]))
        for query in 0..<10 {
            let lexical: [String: Any] = ["query": docs[query]["text"]!, "tenant": "acme", "mode": "lexical", "k": 10]
            let vector: [String: Any] = ["vector": docs[query]["embedding"]!, "tenant": "acme", "k": 10]
            let lexicalA = try await search(a.admin, name, lexical, minSeq: ingested)
            let vectorA = Set(try await search(a.admin, name, vector, minSeq: ingested).map(\.id))
            for client in others {
                let lexicalOther = try await search(client, name, lexical, minSeq: ingested)
                XCTAssertEqual(lexicalOther.map(\.id), lexicalA.map(\.id))
                XCTAssertEqual(lexicalOther.map(\.score), lexicalA.map(\.score))
                let overlap = Set(try await search(client, name, vector, minSeq: ingested).map(\.id)).intersection(vectorA).count
                XCTAssertGreaterThanOrEqual(overlap, 9, "vector top-10 overlap with the writer")
            }
        }

        // Quarantined on A: withheld on B and C at its seq, on every path; released: back.
        let probe: [String: Any] = ["vector": docs[3]["embedding"]!, "query": docs[3]["text"]!, "tenant": "acme", "k": 10]
        let quarantined = try seq(try await a.admin.post(path + "/quarantine", ["ids": ["acme-3"], "reason": "hub"]))
        for client in others {
            for mode in ["vector", "lexical", "hybrid"] {
                var body = probe
                body["mode"] = mode
                let ids = try await search(client, name, body, minSeq: quarantined).map(\.id)
                XCTAssertFalse(ids.contains("acme-3"), "\(mode) serves a quarantined document")
            }
            await assertEqual(try await documentStatus(client, name, "acme-3", minSeq: quarantined), 404)
        }
        let released = try seq(try await a.admin.post(path + "/quarantine/release", ["ids": ["acme-3"], "reason": "false alarm"]))
        for client in others {
            await assertEqual(try await search(client, name, probe, minSeq: released).map(\.id).contains("acme-3"), true)
        }

        // Deleted on A: gone from the others.
        let deleted = try seq(try await a.admin.send("DELETE", path + "/documents/acme-4"))
        for client in others { await assertEqual(try await documentStatus(client, name, "acme-4", minSeq: deleted), 404) }

        // Rolled back on A: documents ingested after the snapshot stop being served everywhere.
        await assertEqual(try await a.admin.post(path + "/snapshots", [:]).status, 201)
        let listed = try await a.admin.get(path + "/snapshots").object()["snapshots"] as? [[String: Any]]
        let snapshotID = try XCTUnwrap(listed?.first?["id"] as? String)
        let late = documents(tenant: "acme", count: 5, dimension: 8, seed: 92, prefix: "late")
        let lateSeq = try seq(try await a.admin.post(path + "/documents", ["documents": late]))
        for client in others { await assertEqual(try await documentStatus(client, name, "late-0", minSeq: lateSeq), 200) }
        let declared = try await a.admin.post("/v1/incidents", ["title": "rollback drill", "severity": "SEV-2"]).object()
        let incident = try XCTUnwrap(declared["id"] as? String)
        let rolledBack = try seq(try await a.admin.post(path + "/rollback", ["snapshot_id": snapshotID, "incident_id": incident]))
        for client in others {
            for index in 0..<5 { await assertEqual(try await documentStatus(client, name, "late-\(index)", minSeq: rolledBack), 404) }
            let ids = try await search(client, name, ["vector": late[0]["embedding"]!, "tenant": "acme", "k": 10], minSeq: rolledBack)
            XCTAssertFalse(ids.map(\.id).contains { $0.hasPrefix("late-") })
        }
        // The same servable documents everywhere.
        let counts = try await [a.admin, b.admin, c.admin].asyncMap { try await $0.get(path).object()["documents"] as? Int }
        XCTAssertEqual(Set(counts.compactMap { $0 }), [79], "\(counts)")

        // Rebuilt on A (a quarantined document left out): B and C load A's graph from the store.
        _ = try seq(try await a.admin.post(path + "/quarantine", ["ids": ["acme-5"], "reason": "hub", "incident_id": incident]))
        EngineFaults.arm(.rebuildBeforeSwap)
        let started = try await a.admin.post(path + "/rebuild", ["tenant": "acme", "reason": "clean graph", "incident_id": incident])
        let job = try XCTUnwrap(try started.object()["job_id"] as? Int, String(decoding: started.body, as: UTF8.self))
        // While it runs, every replica serves acme in the rebuilding mode (exact scans, no ingest).
        let rebuildingSeq = try seq(started)
        for client in others {
            let answer = try await client.post(path + "/search", ["vector": docs[9]["embedding"]!, "tenant": "acme", "k": 10,
                                                                  "min_seq": rebuildingSeq]).object()
            XCTAssertEqual(answer["degraded"] as? Bool, true, "\(answer)")
            XCTAssertEqual((answer["results"] as? [[String: Any]])?.first?["id"] as? String, "acme-9")
            let refusedDuring = try await client.post(path + "/documents", ["documents": documents(tenant: "acme", count: 1, dimension: 8,
                                                                                                  seed: 94, prefix: "during")])
            XCTAssertEqual(refusedDuring.status, 423, String(decoding: refusedDuring.body, as: UTF8.self))
        }
        EngineFaults.disarm(.rebuildBeforeSwap)
        var state = ""
        for _ in 0..<200 where !["succeeded", "failed", "cancelled"].contains(state) {
            try await Task.sleep(for: .milliseconds(50))
            state = try await a.admin.get("/v1/jobs/\(job)").object()["state"] as? String ?? ""
        }
        XCTAssertEqual(state, "succeeded")
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !said.lines.contains(where: { $0.contains("rebuilt graph c") && $0.contains("loaded") }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertTrue(said.lines.contains { $0.contains("rebuilt graph c") && $0.contains("loaded (78 documents)") },
                      said.lines.joined(separator: "\n"))
        let rebuiltSeq = try await a.admin.get("/readyz").object()["applied_seq"] as? Int ?? 0
        for client in others {
            var degraded = true
            let until = Date().addingTimeInterval(5)
            while degraded && Date() < until {
                let answer = try await client.post(path + "/search", ["vector": docs[9]["embedding"]!, "tenant": "acme", "k": 10]).object()
                degraded = answer["degraded"] as? Bool ?? true
                if degraded { try await Task.sleep(for: .milliseconds(50)) }
            }
            XCTAssertFalse(degraded, "the rebuild's end reaches every replica")
        }
        for query in 0..<5 {
            let body: [String: Any] = ["vector": docs[query * 7]["embedding"]!, "tenant": "acme", "k": 10]
            let expected = try await search(a.admin, name, body, minSeq: Int64(rebuiltSeq))
            for client in others {
                let served = try await search(client, name, body, minSeq: Int64(rebuiltSeq))
                XCTAssertEqual(served.map(\.id), expected.map(\.id), "the same graph answers the same")
                XCTAssertFalse(served.map(\.id).contains("acme-5"))
            }
        }

        // Frozen on A: B refuses ingestion (its write first catches up under the collection lock).
        let frozen = try seq(try await a.admin.put(path + "/flags/FF_INDEX_FREEZE", ["enabled": true, "incident_id": incident]))
        XCTAssertGreaterThan(frozen, rolledBack)
        let refused = try await b.admin.post(path + "/documents",
                                             ["documents": documents(tenant: "acme", count: 1, dimension: 8, seed: 93, prefix: "x")])
        XCTAssertEqual(refused.status, 423, String(decoding: refused.body, as: UTF8.self))

        // Every response says how far its replica has applied.
        let readiness = try await b.admin.get("/readyz")
        let ready = try readiness.object()
        XCTAssertEqual(ready["ready"] as? Bool, true)
        XCTAssertEqual(ready["replica"] as? String, "repl-b")
        XCTAssertGreaterThanOrEqual(Int64(try XCTUnwrap(readiness.header("Firebreak-Applied-Seq"))) ?? 0, frozen)
        XCTAssertNotNil(ready["head_seq"] as? Int)
        let replicas = try await a.admin.get("/v1/replicas").object()["replicas"] as? [[String: Any]] ?? []
        XCTAssertTrue(Set(replicas.compactMap { $0["name"] as? String }).isSuperset(of: ["repl-a", "repl-b", "repl-c"]))
        for harness in [a, b, c] { try await harness.stop() }
    }

    func testAReadAheadOfTheReplicaIsRefusedWithRetryAfter() async throws {
        let harness = try await Harness.start(replica: "repl-behind", consistencyWaitMs: 50)
        let collection = try await harness.collection()
        let path = "/v1/collections/\(collection)"
        let reply = try await harness.admin.post(path + "/search", ["query": "alpha", "tenant": "acme", "min_seq": Int64.max / 2])
        XCTAssertEqual(reply.status, 503)
        XCTAssertEqual(reply.code, "replica_behind")
        XCTAssertEqual(reply.header("Retry-After"), "1")
        await assertEqual(try await harness.admin.get(path + "/documents/x?min_seq=oops").status, 400)
        await assertEqual(try await harness.admin.post(path + "/search", ["query": "alpha", "min_seq": -1]).status, 400)
        try await harness.stop()
    }

    /// A row this replica cannot apply stops its progress, and `/readyz` names the row.
    func testARowThatCannotBeAppliedStopsTheReplicaAndReadyzSaysWhy() async throws {
        let harness = try await Harness.start(replica: "repl-stop")
        let collection = try await harness.collection()
        let path = "/v1/collections/\(collection)"
        let id = try await collectionID(harness, collection)
        let owner = try TestCluster.owner()
        let bad = try owner.transaction { c in
            try ChangeLog.lockCollection(id, on: c)
            return try c.query("""
                INSERT INTO changes (collection_id, kind, version, payload, origin) VALUES ($1, 'documents_deleted', 99, '{}', 'test')
                RETURNING seq
                """, [.integer(id)])[0].integer("seq")
        }
        let problem = try await stoppedProblem(of: harness)
        XCTAssertTrue(problem?.contains("change \(bad)") ?? false, "readyz: \(problem ?? "still ready")")
        // A read that needs the row it could not apply: 503 replica_behind (no Retry-After: this
        // replica will not catch up by itself; another one may answer).
        let behind = try await harness.admin.post(path + "/search", ["query": "alpha", "tenant": "acme", "min_seq": bad])
        XCTAssertEqual(behind.status, 503)
        XCTAssertEqual(behind.code, "replica_behind")
        let write = try await harness.admin.post(path + "/documents",
                                                 ["documents": documents(tenant: "acme", count: 1, dimension: 8, seed: 5)])
        XCTAssertEqual(write.status, 503, "a stopped replica refuses writes")
        try await harness.stop()
        try owner.query("DELETE FROM changes WHERE seq = $1", [.integer(bad)])
    }

    /// Retention that deleted rows this replica still needed stops it (it never skips them),
    /// and `/readyz` says so.
    func testALogTruncatedPastTheReplicaStopsItInsteadOfSkipping() async throws {
        let harness = try await Harness.start(replica: "repl-floor")
        let owner = try TestCluster.owner()
        let floor = try ChangeLog.floor(on: owner)
        let head = try ChangeLog.head(on: owner)
        try owner.query("UPDATE change_log_floor SET below = $1", [.integer(head + 5)])
        defer { _ = try? owner.query("UPDATE change_log_floor SET below = $1", [.integer(floor)]) }
        let problem = try await stoppedProblem(of: harness)
        XCTAssertTrue(problem?.contains("truncated below \(head + 5)") ?? false, "readyz: \(problem ?? "still ready")")
        try await harness.stop()
    }

    /// 10,000 changes made on one replica while a second one applies them as they come: a
    /// replica started afterwards (from the newest snapshot, reconciled with the record)
    /// serves exactly what the watcher serves.
    func testAReplicaStartedAfterTenThousandChangesEqualsOneThatSawThemAll() async throws {
        let writer = try await Harness.start(replica: "repl-10k-w")
        let watcher = try await Harness.start(replica: "repl-10k-b")
        let collection = try await writer.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let acme = documents(tenant: "acme", count: 300, dimension: 8, seed: 201)
        _ = try seq(try await writer.admin.post(path + "/documents", ["documents": acme]))
        _ = try await writer.admin.post(path + "/snapshots", [:])
        let declared = try await writer.admin.post("/v1/incidents", ["title": "10k", "severity": "SEV-3"]).object()
        let incident = try XCTUnwrap(declared["id"] as? String)
        let workers = 4, cycles = Self.changeCount / (4 * workers), admin = writer.admin
        let replies = try await withThrowingTaskGroup(of: [APIClient.Reply].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var replies: [APIClient.Reply] = []
                    for cycle in 0..<cycles {
                        replies += try await Self.cycle(cycle, worker: worker, on: admin, path: path, incident: incident)
                    }
                    return replies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        XCTAssertEqual(replies.count, Self.changeCount)
        let last = try replies.map { try seq($0) }.max() ?? 0
        _ = try await writer.admin.post(path + "/snapshots", [:])
        let said = LockedLines()
        let late = try await Harness.start(replica: "repl-10k-c") { said.append($0) }
        XCTAssertTrue(said.lines.contains { $0.contains(collection) && $0.contains("from snapshot") }, said.lines.joined(separator: "\n"))
        let queries = acme.enumerated().filter { $0.offset % 30 == 0 }.map(\.element)
        let expected = try await served(by: watcher.admin, path: path, queries: queries, minSeq: last)
        let actual = try await served(by: late.admin, path: path, queries: queries, minSeq: last)
        XCTAssertEqual(actual.status, expected.status)
        XCTAssertEqual(actual.quarantine, expected.quarantine)
        XCTAssertEqual(actual.lexical, expected.lexical, "lexical answers are identical")
        for (mine, theirs) in zip(actual.vector, expected.vector) {
            XCTAssertGreaterThanOrEqual(Set(mine).intersection(theirs).count, 9, "vector top-10 overlap")
        }
        for harness in [late, watcher, writer] { try await harness.stop() }
    }

    static let changeCount = 10_000

    /// One cycle of four changes by `worker`: ingest a document, quarantine it, then either
    /// release and delete it, or ingest another and delete that one or ingest a third (every
    /// request a change).
    private static func cycle(_ cycle: Int, worker: Int, on client: APIClient, path: String,
                              incident: String) async throws -> [APIClient.Reply] {
        let tag = "\(cycle)x\(worker)"
        func ingest(_ prefix: String) async throws -> APIClient.Reply {
            try await client.post(path + "/documents", ["documents": documents(tenant: "acme", count: 1, dimension: 8,
                                                                               seed: UInt64(cycle * 8 + worker), prefix: prefix)])
        }
        var replies = [try await ingest("late\(tag)")]
        replies.append(try await client.post(path + "/quarantine", ["ids": ["late\(tag)-0"], "reason": "10k", "incident_id": incident]))
        replies.append(cycle % 3 == 0
            ? try await client.post(path + "/quarantine/release", ["ids": ["late\(tag)-0"], "reason": "10k", "incident_id": incident])
            : try await ingest("extra\(tag)"))
        if cycle % 3 == 0 {
            replies.append(try await client.send("DELETE", path + "/documents/late\(tag)-0"))
        } else if cycle % 2 == 0 {
            replies.append(try await client.send("DELETE", path + "/documents/extra\(tag)-0"))
        } else {
            replies.append(try await ingest("third\(tag)"))
        }
        return replies
    }

    private struct Answers: Equatable {
        var status: [String]
        var quarantine: Set<String>
        var lexical: [[String]]
        var vector: [[String]]
    }

    private func served(by client: APIClient, path: String, queries: [[String: Any]], minSeq: Int64) async throws -> Answers {
        let collection = String(path.split(separator: "/").last!)
        var lexical: [[String]] = [], vector: [[String]] = []
        for query in queries {
            lexical.append(try await search(client, collection, ["query": query["text"]!, "tenant": "acme", "mode": "lexical"],
                                            minSeq: minSeq).map { "\($0.id) \($0.score)" })
            vector.append(try await search(client, collection, ["vector": query["embedding"]!, "tenant": "acme"], minSeq: minSeq).map(\.id))
        }
        let status = try await client.get(path).object()
        let entries = try await client.get(path + "/quarantine").object()["entries"] as? [[String: Any]] ?? []
        return Answers(status: ["documents", "quarantined", "tenants"].map { "\(status[$0] ?? "nil")" },
                       quarantine: Set(entries.compactMap { $0["id"] as? String }), lexical: lexical, vector: vector)
    }

    /// A replica started after the writer's changes loads the newest snapshot and is brought
    /// up to date; a corrupted snapshot is refused by name and the one before it used; with
    /// no usable snapshot it loads from PostgreSQL. Every way, it serves what the writer serves.
    func testAReplicaStartsFromTheNewestVerifiedSnapshotAndFallsBack() async throws {
        let writer = try await Harness.start(replica: "repl-w")
        let collection = try await writer.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let acme = documents(tenant: "acme", count: 200, dimension: 8, seed: 101)
        let globex = documents(tenant: "globex", count: 100, dimension: 8, seed: 102)
        _ = try seq(try await writer.admin.post(path + "/documents", ["documents": acme + globex]))
        let olderReply = try await writer.admin.post(path + "/snapshots", [:]).object()
        let older = try XCTUnwrap(olderReply["id"] as? String)
        let more = documents(tenant: "acme", count: 30, dimension: 8, seed: 103, prefix: "more")
        _ = try seq(try await writer.admin.post(path + "/documents", ["documents": more]))
        let newerReply = try await writer.admin.post(path + "/snapshots", [:]).object()
        let newer = try XCTUnwrap(newerReply["id"] as? String)
        // Changes after the newest snapshot: more documents, a quarantine, a deletion, a new tenant.
        _ = try seq(try await writer.admin.post(path + "/documents",
                                                ["documents": documents(tenant: "initech", count: 20, dimension: 8, seed: 104)]))
        _ = try seq(try await writer.admin.post(path + "/quarantine", ["ids": ["acme-1", "more-2"], "reason": "hub"]))
        let last = try seq(try await writer.admin.send("DELETE", path + "/documents/globex-5"))

        let expected = try await state(of: writer.admin, collection, acme: acme + more, minSeq: last)
        XCTAssertEqual(expected.documents, 349)

        let fromNewest = try await startAndCompare(collection, replica: "repl-s1", expected: expected, acme: acme + more, minSeq: last)
        XCTAssertTrue(fromNewest.contains("from snapshot \(newer)"), fromNewest)

        try corrupt(snapshot: newer)
        let fromOlder = try await startAndCompare(collection, replica: "repl-s2", expected: expected, acme: acme + more, minSeq: last)
        XCTAssertTrue(fromOlder.contains("from snapshot \(older)"), fromOlder)

        try corrupt(snapshot: older)
        let fromRecord = try await startAndCompare(collection, replica: "repl-s3", expected: expected, acme: acme + more, minSeq: last)
        XCTAssertTrue(fromRecord.contains("from PostgreSQL"), fromRecord)
        XCTAssertTrue(fromRecord.contains("\(older) refused") && fromRecord.contains("\(newer) refused"), fromRecord)
        try await writer.stop()
    }

    /// The same start-up path over an S3 bucket (moto, signatures checked): replicas load the
    /// newest snapshot from the bucket and serve what the writer serves; a corrupted object is
    /// refused by name and the replica falls back to the snapshot before it; a rollback and
    /// the verification of a snapshot read it from the bucket too.
    func testReplicasStartFromTheSameS3BucketAndRefuseACorruptedObject() async throws {
        let store = try Harness.s3Store()
        let writer = try await Harness.start(replica: "repl-s3-w", snapshots: store)
        let collection = try await writer.collection(dimension: 8)
        let path = "/v1/collections/\(collection)"
        let acme = documents(tenant: "acme", count: 200, dimension: 8, seed: 201)
        _ = try seq(try await writer.admin.post(path + "/documents", ["documents": acme]))
        let olderReply = try await writer.admin.post(path + "/snapshots", [:]).object()
        let older = try XCTUnwrap(olderReply["id"] as? String)
        let more = documents(tenant: "acme", count: 30, dimension: 8, seed: 202, prefix: "more")
        _ = try seq(try await writer.admin.post(path + "/documents", ["documents": more]))
        let newerReply = try await writer.admin.post(path + "/snapshots", [:]).object()
        let newer = try XCTUnwrap(newerReply["id"] as? String)
        let space = "c\(try await collectionID(writer, collection))"
        XCTAssertEqual(try store.ids(in: space), [older, newer].sorted(), "both snapshots are in the bucket")
        let verified = try await writer.admin.post(path + "/snapshots/\(older)/verify", ["threshold": 1_000])
        XCTAssertEqual(verified.status, 200, String(decoding: verified.body, as: UTF8.self))
        XCTAssertEqual(try verified.object()["clean"] as? Bool, true, "verify reads the snapshot from the bucket")
        _ = try seq(try await writer.admin.post(path + "/quarantine", ["ids": ["acme-1", "more-2"], "reason": "hub"]))
        let last = try seq(try await writer.admin.send("DELETE", path + "/documents/acme-5"))
        let expected = try await state(of: writer.admin, collection, acme: acme + more, minSeq: last)

        for replica in ["repl-s3-a", "repl-s3-b"] {
            let said = try await startAndCompare(collection, replica: replica, expected: expected, acme: acme + more, minSeq: last,
                                                 snapshots: store, quarantined: ["acme-1", "more-2", "acme-5"])
            XCTAssertTrue(said.contains("from snapshot \(newer)"), said)
        }

        var segment = try store.client.get(store.key(space, newer, "p0000.hnsw"))
        segment[segment.count / 2] ^= 0x5a
        try store.client.put(store.key(space, newer, "p0000.hnsw"), body: segment)
        let fellBack = try await startAndCompare(collection, replica: "repl-s3-c", expected: expected, acme: acme + more,
                                                 minSeq: last, snapshots: store, quarantined: ["acme-1", "more-2", "acme-5"])
        XCTAssertTrue(fellBack.contains("\(newer) refused") && fellBack.contains("p0000.hnsw"), fellBack)
        XCTAssertTrue(fellBack.contains("from snapshot \(older)"), fellBack)

        let declared = try await writer.admin.post("/v1/incidents", ["title": "s3 rollback", "severity": "SEV-2"]).object()
        let incident = try XCTUnwrap(declared["id"] as? String)
        let rollback = try await writer.admin.post(path + "/rollback", ["snapshot_id": older, "incident_id": incident])
        XCTAssertEqual(rollback.status, 200, String(decoding: rollback.body, as: UTF8.self))
        let refused = try await writer.admin.post(path + "/rollback", ["snapshot_id": newer, "incident_id": incident])
        XCTAssertEqual(refused.status, 409, String(decoding: refused.body, as: UTF8.self))
        XCTAssertTrue(String(decoding: refused.body, as: UTF8.self).contains("p0000.hnsw"), "the refusal names the object")
        try await writer.stop()
    }


    // MARK: Helpers

    private struct Served: Equatable {
        var documents: Int
        var quarantined: Int
        var tenants: [String]
        var lexical: [[String]]
        var vector: [Set<String>]
    }

    private func state(of client: APIClient, _ collection: String, acme: [[String: Any]], minSeq: Int64) async throws -> Served {
        var lexical: [[String]] = [], vector: [Set<String>] = []
        for index in stride(from: 0, to: acme.count, by: 23) {
            lexical.append(try await search(client, collection, ["query": acme[index]["text"]!, "tenant": "acme", "mode": "lexical"],
                                            minSeq: minSeq).map(\.id))
            vector.append(Set(try await search(client, collection, ["vector": acme[index]["embedding"]!, "tenant": "acme"],
                                               minSeq: minSeq).map(\.id)))
        }
        let status = try await client.get("/v1/collections/\(collection)").object()
        return Served(documents: status["documents"] as? Int ?? -1, quarantined: status["quarantined"] as? Int ?? -1,
                      tenants: status["tenants"] as? [String] ?? [], lexical: lexical, vector: vector)
    }

    /// Starts a replica, compares what it serves with `expected`, stops it; returns what it
    /// said about loading `collection`.
    private func startAndCompare(_ collection: String, replica: String, expected: Served, acme: [[String: Any]],
                                 minSeq: Int64, snapshots: (any SnapshotStore)? = nil,
                                 quarantined: [String] = ["acme-1", "more-2", "globex-5"]) async throws -> String {
        let said = LockedLines()
        let harness = try await Harness.start(replica: replica, snapshots: snapshots) { said.append($0) }
        let served = try await state(of: harness.admin, collection, acme: acme, minSeq: minSeq)
        XCTAssertEqual(served.documents, expected.documents)
        XCTAssertEqual(served.quarantined, expected.quarantined)
        XCTAssertEqual(served.tenants, expected.tenants)
        XCTAssertEqual(served.lexical, expected.lexical, "lexical answers are identical")
        for (mine, theirs) in zip(served.vector, expected.vector) {
            XCTAssertGreaterThanOrEqual(mine.intersection(theirs).count, 9, "vector top-10 overlap")
            XCTAssertFalse(mine.contains("acme-1") || mine.contains("more-2"), "a quarantined document is served")
        }
        for id in quarantined {
            await assertEqual(try await documentStatus(harness.admin, collection, id, minSeq: minSeq), 404)
        }
        try await harness.stop()
        return said.lines.filter { $0.contains(collection) }.joined(separator: "\n")
    }

    /// What `/readyz` names once the replica stopped applying (nil if it is still ready after 5 s).
    private func stoppedProblem(of harness: Harness) async throws -> String? {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let readiness = try await harness.admin.get("/readyz")
            if readiness.status == 503 { return try readiness.object()["problem"] as? String }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    private func collectionID(_ harness: Harness, _ name: String) async throws -> Int64 {
        let owner = try TestCluster.owner()
        return try owner.query("SELECT id FROM collections WHERE name = $1", [.text(name)])[0].integer("id")
    }

    /// Truncates a snapshot's first graph file (the kind of damage a failed copy leaves).
    private func corrupt(snapshot id: String) throws {
        let root = Harness.snapshotDirectory
        let folders = try FileManager.default.contentsOfDirectory(atPath: root).map { root + "/" + $0 + "/" + id }
        let folder = try XCTUnwrap(folders.first { FileManager.default.fileExists(atPath: $0) }, "no folder for \(id)")
        let file = try XCTUnwrap(FileHandle(forWritingAtPath: folder + "/p0000.hnsw"))
        try file.truncate(atOffset: 100)
        try file.close()
    }
}

/// Progress lines a server printed.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func append(_ line: String) { lock.withLock { stored.append(line) } }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
