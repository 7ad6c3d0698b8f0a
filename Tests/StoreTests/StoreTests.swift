import FirebreakTestSupport
import Foundation
import Incidents
import Store
import XCTest

final class MigrationTests: XCTestCase {
    func testMigrationsApplyOnceAndAreRecorded() throws {
        let connection = try TestCluster.owner()
        XCTAssertEqual(try Migrator.migrate(connection), [], "a second run applies nothing")
        let status = try Migrator.status(connection)
        XCTAssertGreaterThanOrEqual(status.count, 2)
        XCTAssertTrue(status.allSatisfy(\.applied))
        XCTAssertEqual(status.map(\.version), status.map(\.version).sorted())
    }

    func testAnEditedMigrationIsRefused() throws {
        let connection = try TestCluster.owner()
        let original = try Migrator.bundled()
        var edited = original
        let first = edited[0]
        edited[0] = Migration(version: first.version, name: first.name, sql: first.sql + "\n-- edited", sha256: "0000")
        XCTAssertStoreError(.migrationFailed) { try Migrator.migrate(connection, migrations: edited) }
        XCTAssertEqual(try Migrator.migrate(connection, migrations: original), [])
    }

    func testAFailingMigrationLeavesNothingBehind() throws {
        let connection = try TestCluster.owner()
        let broken = Migration(version: 9_999, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT 1/0;", sha256: "x")
        XCTAssertStoreError(.migrationFailed, sqlstate: "22012") { try Migrator.migrate(connection, migrations: [broken]) }
        let table = try connection.query("SELECT to_regclass('half_done') IS NULL AS absent")
        XCTAssertTrue(try table[0].boolean("absent"), "the failed migration's transaction was rolled back")
        XCTAssertTrue(try connection.query("SELECT 1 FROM firebreak_migrations WHERE version = 9999").isEmpty)
    }
}

final class RowLevelSecurityTests: XCTestCase {
    /// Two tenants, three documents, one of acme's quarantined. The reader role, connecting
    /// with plain SQL, sees only its tenant's unquarantined rows, and nothing without a tenant.
    func testReaderSeesOnlyItsTenantAndNoQuarantinedRow() throws {
        let owner = try TestCluster.owner()
        let suffix = String(getpid()) + String(Int.random(in: 0..<1_000_000))
        let acme = "acme-\(suffix)", globex = "globex-\(suffix)"
        let ids: [String] = try owner.transaction { c in
            try c.query("INSERT INTO tenants (name) VALUES ($1), ($2)", [.text(acme), .text(globex)])
            let collection = try c.query("""
                INSERT INTO collections (name, dimension, metric) VALUES ($1, 2, 'cosine') RETURNING id
                """, [.text("rls-\(suffix)")])[0].string("id")
            var ids: [String] = []
            for (tenant, external) in [(acme, "a1"), (acme, "a2"), (globex, "g1")] {
                ids.append(try c.query("""
                    INSERT INTO documents (tenant, collection_id, external_id, text, embedding, content_sha256)
                    VALUES ($1, $2::bigint, $3, 'text', '{0.6,0.8}', decode(repeat('ab', 32), 'hex')) RETURNING id
                    """, [.text(tenant), .text(collection), .text(external)])[0].string("id"))
            }
            try c.query("""
                INSERT INTO incidents (id, title, severity, taxonomy_class, status, reporter, detected_at)
                VALUES ($1, 'poisoned doc', 'SEV-1', 'corpus', 'declared', 'test', now())
                """, [.text("INC-\(suffix.prefix(6))\(suffix.count)")])
            try c.query("""
                INSERT INTO quarantine_entries (document_id, collection_id, incident_id, reason, quarantined_by)
                VALUES ($1::bigint, $2::bigint, $3, 'hub', 'test')
                """, [.text(ids[1]), .text(collection), .text("INC-\(suffix.prefix(6))\(suffix.count)")])
            return ids
        }
        let reader = try TestCluster.reader()
        func visible(as tenant: String?) throws -> [String] {
            try reader.transaction(settings: tenant.map { ["firebreak.tenant": $0] } ?? [:]) { c in
                try c.query("SELECT external_id FROM documents WHERE id = ANY($1::bigint[]) ORDER BY external_id",
                            [.text("{\(ids.joined(separator: ","))}")]).map { try $0.string("external_id") }
            }
        }
        XCTAssertEqual(try visible(as: acme), ["a1"], "a2 is quarantined; g1 belongs to globex")
        XCTAssertEqual(try visible(as: globex), ["g1"])
        XCTAssertEqual(try visible(as: nil), [], "no tenant, no rows")
        XCTAssertEqual(try visible(as: "nobody"), [])
        // The reader cannot see the quarantine table or write documents, even by trying.
        XCTAssertStoreError(.insufficientPrivilege, sqlstate: "42501") {
            try reader.query("SELECT count(*) FROM quarantine_entries")
        }
        XCTAssertStoreError(.insufficientPrivilege, sqlstate: "42501") {
            try reader.query("DELETE FROM documents")
        }
        // Releasing the quarantine makes the row visible again.
        try owner.query("UPDATE quarantine_entries SET released_at = now(), released_by = 'test', release_reason = 'false alarm' WHERE document_id = $1::bigint",
                        [.text(ids[1])])
        XCTAssertEqual(try visible(as: acme), ["a1", "a2"])
    }
}

final class ConnectionTests: XCTestCase {
    func testServerErrorsAreTypedWithTheirSQLSTATE() throws {
        let owner = try TestCluster.owner()
        let name = "dup-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text(name)])
        XCTAssertStoreError(.constraintViolation, sqlstate: "23505") {
            try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text(name)])
        }
        XCTAssertStoreError(.constraintViolation, sqlstate: "23514") {
            try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text("bad name with spaces")])
        }
        XCTAssertStoreError(.queryFailed, sqlstate: "42P01") { try owner.query("SELECT * FROM no_such_table") }
        // A parameter is data, never SQL: this stores the text as a (refused) tenant name.
        XCTAssertStoreError(.constraintViolation, sqlstate: "23514") {
            try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text("x'); DROP TABLE tenants; --")])
        }
        XCTAssertFalse(try owner.query("SELECT 1 FROM tenants LIMIT 1").isEmpty)
        XCTAssertStoreError(.connectionFailed) { _ = try Connection("host=/nonexistent-\(getpid()) dbname=x connect_timeout=2") }
    }

    func testTransactionsRollBackOnError() throws {
        let owner = try TestCluster.owner()
        let name = "rollback-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        struct Abort: Error {}
        XCTAssertThrowsError(try owner.transaction { c in
            try c.query("INSERT INTO tenants (name) VALUES ($1)", [.text(name)])
            throw Abort()
        })
        XCTAssertTrue(try owner.query("SELECT 1 FROM tenants WHERE name = $1", [.text(name)]).isEmpty)
    }

    func testValuesRoundTrip() throws {
        let owner = try TestCluster.owner()
        let row = try owner.query("""
            SELECT $1::text AS t, $2::bigint AS i, $3::boolean AS b, $4::double precision AS r,
                   $5::bytea AS y, $6::text IS NULL AS n, 'Grüße ✓'::text AS u
            """, [.text("a'b\"c"), .integer(-42), .boolean(true), .real(2.5), .bytes([0, 1, 254, 255]), .null])[0]
        XCTAssertEqual(try row.string("t"), "a'b\"c")
        XCTAssertEqual(try row.integer("i"), -42)
        XCTAssertTrue(try row.boolean("b"))
        XCTAssertEqual(try row.real("r"), 2.5)
        XCTAssertEqual(try row.bytes("y"), [0, 1, 254, 255])
        XCTAssertTrue(try row.boolean("n"))
        XCTAssertEqual(try row.string("u"), "Grüße ✓")
        XCTAssertStoreError(.decodingFailed) { _ = try row.integer("t") }
        XCTAssertStoreError(.decodingFailed) { _ = try row.string("missing") }
    }

    func testListenNotifyDeliversAcrossConnections() throws {
        let listener = try TestCluster.owner()
        try listener.listen("firebreak_test")
        try TestCluster.owner().notify("firebreak_test", payload: "{\"document\":42}")
        let notification = try listener.nextNotification(timeout: 5)
        XCTAssertEqual(notification, Connection.Notification(channel: "firebreak_test", payload: "{\"document\":42}"))
        XCTAssertNil(try listener.nextNotification(timeout: 0.05))
    }

    func testPoolRunsConcurrentWorkOnItsOwnThreads() async throws {
        let pool = ConnectionPool(conninfo: try TestCluster.shared().conninfo(), size: 2)
        let tag = "pool-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try await pool.transaction { c in
                        try c.query("INSERT INTO tenants (name) VALUES ($1)", [.text("\(tag)-\(i)")])
                        try c.query("SELECT pg_sleep(0.02)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let count = try await pool.withConnection { c in
            try c.query("SELECT count(*) AS n FROM tenants WHERE name LIKE $1", [.text("\(tag)-%")])[0].integer("n")
        }
        XCTAssertEqual(count, 8)
        let pid = try await pool.withConnection { c in try c.query("SELECT pg_backend_pid() AS p")[0].integer("p") }
        XCTAssertGreaterThan(pid, 0)
    }

    /// A closed pool ends its connections (a stopped server's must not hold the database's
    /// shared max_connections) and refuses borrowers by name.
    func testAClosedPoolEndsItsConnectionsAndRefusesBorrowers() async throws {
        let pool = ConnectionPool(conninfo: try TestCluster.shared().conninfo(), size: 2)
        let pid = try await pool.withConnection { c in try c.query("SELECT pg_backend_pid() AS p")[0].integer("p") }
        let owner = try TestCluster.owner()
        func alive() throws -> Bool {
            try owner.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1", [.integer(pid)])[0].integer("n") == 1
        }
        XCTAssertTrue(try alive(), "the idle connection is pooled")
        pool.close()
        var gone = false
        for _ in 0..<100 where !gone {
            gone = try !alive()
            if !gone { try await Task.sleep(for: .milliseconds(20)) }
        }
        XCTAssertTrue(gone, "closing the pool ended backend \(pid)")
        do {
            _ = try await pool.withConnection { _ in 1 }
            XCTFail("a closed pool lends nothing")
        } catch let error as StoreError {
            XCTAssertEqual(error.code, .connectionFailed)
            XCTAssertTrue(error.message.contains("closed"), error.message)
        }
    }
}

final class EmbeddedPostgresTests: XCTestCase {
    /// The launcher reuses its folder: a stop and a start keep the data.
    func testRestartKeepsData() throws {
        let cluster = try TestCluster.shared()
        let name = "restart-\(getpid())"
        try TestCluster.owner().query("INSERT INTO tenants (name) VALUES ($1)", [.text(name)])
        try cluster.stop()
        XCTAssertFalse(try cluster.isRunning())
        try cluster.start()
        XCTAssertTrue(try cluster.isRunning())
        XCTAssertFalse(try TestCluster.owner().query("SELECT 1 FROM tenants WHERE name = $1", [.text(name)]).isEmpty)
    }
}

final class DocumentRecordTests: XCTestCase {
    /// A collection of `dimension` (its rows must match it: every suite in this process shares
    /// the cluster, and a service opened on it loads every collection), with its tenant.
    func collection(_ owner: Connection, suffix: String, dimension: Int = 3) throws -> Int64 {
        try owner.query("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING", [.text("t-\(suffix)")])
        return try owner.query("INSERT INTO collections (name, dimension, metric) VALUES ($1, $2, 'l2') RETURNING id",
                               [.text("c-\(suffix)"), .integer(Int64(dimension))])[0].integer("id")
    }

    /// Every bad record is refused with a typed error, and a refused batch writes nothing.
    func testBadInputIsRefusedAndWritesNothing() throws {
        let owner = try TestCluster.owner()
        let suffix = "\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let id = try collection(owner, suffix: suffix)
        let good = DocumentRecord(tenant: "t-\(suffix)", externalID: "ok", text: "fine", embedding: [1, 2, 3],
                                  metadataJSON: #"{"lang":"en"}"#)
        func refused(_ code: StoreError.Code, _ bad: DocumentRecord, line: UInt = #line) {
            XCTAssertStoreError(code, line: line) {
                _ = try DocumentRecords.insert([good, bad], collectionID: id, dimension: 3, on: owner)
            }
        }
        var record = good
        record.externalID = "nan"; record.embedding = [1, .nan, 3]
        refused(.invalidInput, record)
        record = good; record.externalID = "wrong-dimension"; record.embedding = [1, 2]
        refused(.invalidInput, record)
        record = good; record.externalID = "big"; record.metadataJSON = #"{"x":""# + String(repeating: "a", count: 70_000) + #""}"#
        refused(.invalidInput, record)
        record = good; record.externalID = "not-object"; record.metadataJSON = "[1,2"
        refused(.invalidInput, record)
        record = good; record.externalID = "who"; record.tenant = "no-such-tenant"
        refused(.unknownReference, record)
        record = good
        refused(.constraintViolation, record)  // the same id twice in one collection
        XCTAssertStoreError(.invalidInput) {  // a batch of another dimension than its collection's
            _ = try DocumentRecords.insert([DocumentRecord(tenant: good.tenant, externalID: "wide", text: "x", embedding: [1, 2, 3, 4])],
                                           collectionID: id, dimension: 4, on: owner)
        }
        XCTAssertStoreError(.unknownReference) {  // an unknown collection
            _ = try DocumentRecords.insert([good], collectionID: -1, dimension: 3, on: owner)
        }
        XCTAssertTrue(try owner.query("SELECT 1 FROM documents WHERE collection_id = $1", [.integer(id)]).isEmpty,
                      "no refused batch left a row behind")
        let ids = try DocumentRecords.insert([good], collectionID: id, dimension: 3, on: owner)
        XCTAssertEqual(ids.count, 1)
        let row = try owner.query("SELECT encode(content_sha256, 'hex') AS h, metadata->>'lang' AS lang FROM documents WHERE id = $1",
                                  [.integer(ids[0])])[0]
        XCTAssertEqual(try row.string("h"), "d14a58bae804a2b80b5b76a010239c88ffca1fc7951a90f8e9131beda1e23c1b")  // sha256("fine")
        XCTAssertEqual(try row.string("lang"), "en")
    }
}

extension DocumentRecordTests {
    /// The binary COPY carries every field exactly: awkward ids and text, extreme floats, a
    /// null and a present source; the ids come back in the batch's order.
    func testBinaryCopyRoundTripsEveryFieldExactly() throws {
        let owner = try TestCluster.owner()
        let suffix = "\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let id = try collection(owner, suffix: suffix)
        let tenant = "t-\(suffix)"
        let awkward = [#"quote " and \ backslash"#, "comma,{brace}", "ünïcödé ✓ 日本", "tab\tnewline\n"]
        let floats: [Float] = [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -1.5e-38, 0.1, -3, 123_456.79]
        let records = (0..<50).map { i in
            DocumentRecord(tenant: tenant, externalID: "\(awkward[i % awkward.count]) #\(i)", text: awkward[(i + 1) % awkward.count],
                           embedding: [floats[i % floats.count], floats[(i + 3) % floats.count], Float(i)],
                           metadataJSON: #"{"i":\#(i),"s":"é\"x"}"#, source: i.isMultiple(of: 2) ? nil : "src-\(i)")
        }
        let ids = try DocumentRecords.insert(records.reversed(), collectionID: id, dimension: 3, on: owner).reversed() as [Int64]
        XCTAssertEqual(Set(ids).count, records.count)
        for (rowID, record) in zip(ids, records) {
            let stored = try XCTUnwrap(DocumentRecords.fetch(rowID: rowID, tenant: tenant, on: TestCluster.reader()))
            XCTAssertEqual(stored.record.externalID, record.externalID)
            XCTAssertEqual(stored.record.text, record.text)
            XCTAssertEqual(stored.record.source, record.source)
            XCTAssertEqual(stored.record.embedding.map(\.bitPattern), record.embedding.map(\.bitPattern), record.externalID)
            let metadata = try JSONSerialization.jsonObject(with: Data(stored.record.metadataJSON.utf8)) as? [String: Any]
            XCTAssertEqual(metadata?["s"] as? String, "é\"x")
        }
        // The bulk reads (start-up, rebuilds, other replicas' ingests) take the binary array
        // form: every bit of every float comes back, -0 and the extremes included.
        let live = Dictionary(uniqueKeysWithValues: try DocumentRecords.loadLive(collectionID: id, on: owner).map { ($0.rowID, $0.record) })
        let loaded = Dictionary(uniqueKeysWithValues: try DocumentRecords.load(rowIDs: ids, collectionID: id, on: owner).map { ($0.rowID, $0.record) })
        for (rowID, record) in zip(ids, records) {
            XCTAssertEqual(live[rowID]?.embedding.map(\.bitPattern), record.embedding.map(\.bitPattern), "loadLive \(rowID)")
            XCTAssertEqual(loaded[rowID]?.embedding.map(\.bitPattern), record.embedding.map(\.bitPattern), "load \(rowID)")
        }
        // One id in two tenants, in one batch: each record gets its own row.
        let other = "u-\(suffix)"
        try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text(other)])
        let shared = [DocumentRecord(tenant: tenant, externalID: "shared", text: "mine", embedding: [1, 0, 0]),
                      DocumentRecord(tenant: other, externalID: "shared", text: "theirs", embedding: [0, 1, 0])]
        let sharedIDs = try DocumentRecords.insert(shared, collectionID: id, dimension: 3, on: owner)
        XCTAssertNotEqual(sharedIDs[0], sharedIDs[1])
        XCTAssertEqual(try DocumentRecords.fetch(rowID: sharedIDs[1], tenant: other, on: TestCluster.reader())?.record.text, "theirs")
        var nul = records[0]
        nul.externalID = "nul"; nul.text = "before\u{0}after"
        XCTAssertStoreError(.invalidInput) { _ = try DocumentRecords.insert([nul], collectionID: id, dimension: 3, on: owner) }
    }

    /// Migration 0020: a typical row (384 floats and a passage, over the 2 KB toast threshold)
    /// stays inline and uncompressed, so no ingest spends its time in pglz; a row longer than a
    /// page still goes in, its embedding out of line and never compressed.
    func testEmbeddingsAreStoredUncompressedAndTypicalRowsInline() throws {
        let owner = try TestCluster.owner()
        let suffix = "\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let tenant = "t-\(suffix)"
        func chunks() throws -> Int64 {  // the rows of documents' TOAST table
            try owner.query("""
                SELECT (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', reltoastrelid::regclass),
                                                            false, true, '')))[1]::text::bigint AS n
                FROM pg_class WHERE oid = 'documents'::regclass
                """)[0].integer("n")
        }
        let passage = String(repeating: "a manual page passage ", count: 40)  // compressible, 880 bytes
        let before = try chunks()
        let typical = try DocumentRecords.insert(
            (0..<3).map { DocumentRecord(tenant: tenant, externalID: "typical-\($0)", text: passage,
                                         embedding: (0..<384).map { Float($0 % 7) }) },  // compressible too
            collectionID: try collection(owner, suffix: suffix, dimension: 384), dimension: 384, on: owner)
        XCTAssertEqual(try chunks(), before, "typical rows stay inline: nothing went to the TOAST table")
        let wide = try DocumentRecords.insert(
            [DocumentRecord(tenant: tenant, externalID: "wide", text: passage, embedding: (0..<4_096).map { Float($0 % 7) })],
            collectionID: try collection(owner, suffix: suffix + "w", dimension: 4_096), dimension: 4_096, on: owner)
        XCTAssertGreaterThan(try chunks(), before, "a row longer than a page moves its embedding out of line")
        let rows = try owner.query("""
            SELECT pg_column_compression(embedding) AS compression, pg_column_size(embedding) AS bytes, cardinality(embedding) AS n
            FROM documents WHERE id = ANY($1::bigint[]) ORDER BY id
            """, [.text("{" + (typical + wide).map(String.init).joined(separator: ",") + "}")])
        XCTAssertEqual(rows.count, 4)
        for row in rows {
            XCTAssertNil(try row.optionalString("compression"), "embeddings are never compressed")
            XCTAssertGreaterThan(try row.integer("bytes"), try row.integer("n") * 4, "stored at full size, as they are")
        }
    }
}

final class IncidentRecordTests: XCTestCase {
    /// The timeline survives the round trip through PostgreSQL intact; the service cannot edit
    /// it in place; and an edit made in SQL by the maintenance role, to any column of any
    /// event, is found by verification.
    func testTimelineEditsMadeInSQLAreDetected() throws {
        let owner = try TestCluster.owner()
        let (declared, _) = try IncidentRecords.declare(
            title: "Hub in docs", severity: .sev1, taxonomyClass: .corpus, reporter: "hubscan",
            detectedAt: Date(timeIntervalSince1970: 1_800_000_000), on: owner)
        XCTAssertTrue(declared.id.hasPrefix("INC-"))
        _ = try IncidentRecords.transition(declared.id, to: .contained, reason: "quarantined 3 documents", actor: "ic", on: owner)
        let contained = try IncidentRecords.transition(declared.id, to: .mitigated, reason: "rebuilt", actor: "ic", on: owner)
        XCTAssertEqual(contained.status, .mitigated)
        XCTAssertTrue(contained.contained)
        XCTAssertThrowsError(try IncidentRecords.transition(declared.id, to: .closed, reason: "skip", actor: "ic", on: owner))
        XCTAssertEqual(try IncidentRecords.assignCommander(declared.id, commander: "alice", actor: "ops", on: owner).commander, "alice")
        let (loaded, timeline) = try IncidentRecords.load(declared.id, on: owner)
        XCTAssertEqual(loaded.status, .mitigated)
        XCTAssertEqual(loaded.detectedAt, declared.detectedAt)
        XCTAssertEqual(loaded.commander, "alice")
        XCTAssertEqual(timeline.events.map(\.kind), [.declared, .transitioned, .transitioned, .commanderAssigned])
        XCTAssertTrue(timeline.verify().intact, "\(timeline.verify())")

        // The service's own connection cannot edit an event in place.
        XCTAssertStoreError(.insufficientPrivilege) {
            _ = try owner.query("UPDATE incident_events SET actor = 'mallory' WHERE incident_id = $1", [.text(declared.id)])
        }
        XCTAssertStoreError(.insufficientPrivilege) {
            _ = try owner.query("DELETE FROM incident_events WHERE incident_id = $1", [.text(declared.id)])
        }
        XCTAssertStoreError(.insufficientPrivilege) { _ = try owner.query("TRUNCATE incident_events CASCADE") }
        XCTAssertTrue(try IncidentRecords.load(declared.id, on: owner).1.verify().intact)

        // Each tamper (made as the maintenance role, the one way left) on its own fresh
        // incident; verification names the first bad event.
        func tampered(_ tamper: (String) throws -> Void) throws -> Timeline.Verification {
            let (incident, _) = try IncidentRecords.declare(title: "t", severity: .sev2, taxonomyClass: .retrieval,
                                                            reporter: "r", detectedAt: Date(), on: owner)
            _ = try IncidentRecords.transition(incident.id, to: .contained, reason: "c", actor: "ic", on: owner)
            _ = try IncidentRecords.transition(incident.id, to: .mitigated, reason: "m", actor: "ic", on: owner)
            try owner.transaction { c in
                try c.query("SET LOCAL ROLE firebreak_maintenance")
                try tamper(incident.id)
            }
            return try IncidentRecords.load(incident.id, on: owner).1.verify()
        }
        XCTAssertEqual(try tampered { id in
            try owner.query("UPDATE incident_events SET payload = jsonb_set(payload, '{reason}', '\"nothing\"') WHERE incident_id = $1 AND sequence = 3", [.text(id)])
        }.firstBadSequence, 3)
        XCTAssertEqual(try tampered { id in
            try owner.query("UPDATE incident_events SET actor = 'mallory' WHERE incident_id = $1 AND sequence = 2", [.text(id)])
        }.firstBadSequence, 2)
        XCTAssertEqual(try tampered { id in
            try owner.query("DELETE FROM incident_events WHERE incident_id = $1 AND sequence = 2", [.text(id)])
        }.firstBadSequence, 2)
        XCTAssertEqual(try tampered { id in
            try owner.query("UPDATE incident_events SET at = '2020-01-01T00:00:00.000Z' WHERE incident_id = $1 AND sequence = 1", [.text(id)])
        }.firstBadSequence, 1)
    }
}

/// The service's own connections run as `firebreak_service` (issue 17): they do the service's
/// work, but cannot edit the timeline, change the schema or rewrite migration history.
final class ServiceRoleTests: XCTestCase {
    func testTheServiceRoleMayAppendToTheTimelineButNeverEditIt() async throws {
        let pool = ConnectionPool(conninfo: try TestCluster.shared().conninfo(), size: 1, sessionRole: DatabaseRoles.service)
        defer { pool.close() }
        let who = try await pool.withConnection { try $0.query("SELECT current_user AS who")[0].string("who") }
        XCTAssertEqual(who, DatabaseRoles.service)
        let id = try await pool.withConnection { c in
            let (incident, _) = try IncidentRecords.declare(title: "role check", severity: .sev3, taxonomyClass: .retrieval,
                                                            reporter: "test", detectedAt: Date(), on: c)
            _ = try IncidentRecords.transition(incident.id, to: .contained, reason: "held", actor: "ic", on: c)
            return incident.id
        }
        try await pool.withConnection { c in
            for statement: StaticString in ["UPDATE incident_events SET actor = 'mallory' WHERE incident_id = $1",
                                             "DELETE FROM incident_events WHERE incident_id = $1"] {
                XCTAssertStoreError(.insufficientPrivilege) { _ = try c.query(statement, [.text(id)]) }
            }
            XCTAssertStoreError(.insufficientPrivilege) { _ = try c.query("TRUNCATE incident_events CASCADE") }
            XCTAssertStoreError(.insufficientPrivilege) { _ = try c.query("ALTER TABLE incident_events DISABLE TRIGGER USER") }
            XCTAssertStoreError(.insufficientPrivilege) { _ = try c.query("DELETE FROM firebreak_migrations") }
            XCTAssertStoreError(.insufficientPrivilege) { _ = try c.query("DROP TABLE documents") }
            let (_, timeline) = try IncidentRecords.load(id, on: c)
            XCTAssertEqual(timeline.events.map(\.kind), [.declared, .transitioned])
            XCTAssertTrue(timeline.verify().intact)
        }
    }
}

final class SnapshotRecordTests: XCTestCase {
    /// Retention keeps the newest snapshot, retires older ones, but never the verified-clean
    /// snapshot an open incident refers to, until that incident is closed.
    func testRetentionProtectsTheCleanSnapshotOfAnOpenIncident() throws {
        let owner = try TestCluster.owner()
        let suffix = "\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let collection = try owner.query("INSERT INTO collections (name, dimension, metric) VALUES ($1, 4, 'l2') RETURNING id",
                                         [.text("snap-\(suffix)")])[0].integer("id")
        let other = try owner.query("INSERT INTO collections (name, dimension, metric) VALUES ($1, 4, 'l2') RETURNING id",
                                    [.text("other-\(suffix)")])[0].integer("id")
        let ids = (1...4).map { "s\($0)-\(suffix)" }
        for (i, id) in ids.enumerated() {
            try SnapshotRecords.create(id: id, collectionID: collection, parentID: i == 0 ? nil : ids[i - 1], on: owner)
            try SnapshotRecords.markPublished(id, rootHash: "root-\(id)", manifestJSON: "{}", on: owner)
        }
        XCTAssertStoreError(.invalidInput) { try SnapshotRecords.markPublished(ids[0], rootHash: "x", manifestJSON: "{}", on: owner) }
        let foreign = try ScanReportRecords.insert(collectionID: other, tenant: nil, reportJSON: "{}", maxZ: 1, on: owner)
        XCTAssertStoreError(.unknownReference) { try SnapshotRecords.markVerifiedClean(ids[0], scanReportID: foreign, on: owner) }
        let report = try ScanReportRecords.insert(collectionID: collection, tenant: nil, reportJSON: #"{"flagged":[]}"#, maxZ: 3.2, on: owner)
        try SnapshotRecords.markVerifiedClean(ids[0], scanReportID: report, on: owner)
        XCTAssertEqual(try SnapshotRecords.lastClean(collectionID: collection, on: owner)?.id, ids[0])

        let (incident, _) = try IncidentRecords.declare(title: "hub", severity: .sev1, taxonomyClass: .corpus, reporter: "hubscan",
                                                        detectedAt: Date(), snapshotRootHash: "root-\(ids[0])", on: owner)
        XCTAssertStoreError(.invalidInput) { try SnapshotRecords.retire(ids[0], on: owner) }
        XCTAssertEqual(try SnapshotRecords.applyRetention(collectionID: collection, keep: 1, on: owner), [ids[2], ids[1]])
        XCTAssertEqual(try SnapshotRecords.load(ids[0], on: owner).status, .verifiedClean, "protected while the incident is open")
        XCTAssertEqual(try SnapshotRecords.load(ids[3], on: owner).status, .published, "the newest is kept")

        for status in [IncidentStatus.mitigated, .resolved, .closed] {
            _ = try IncidentRecords.transition(incident.id, to: status, reason: "done", actor: "ic", on: owner)
        }
        XCTAssertEqual(try SnapshotRecords.applyRetention(collectionID: collection, keep: 1, sparingLastClean: true, on: owner), [],
                       "the service's retention spares the last-clean target even with no incident open")
        XCTAssertEqual(try SnapshotRecords.applyRetention(collectionID: collection, keep: 1, on: owner), [ids[0]])
        XCTAssertNil(try SnapshotRecords.lastClean(collectionID: collection, on: owner))
        XCTAssertStoreError(.invalidInput) { try SnapshotRecords.retire(ids[0], on: owner) }
        XCTAssertStoreError(.unknownReference) { _ = try SnapshotRecords.load("nope", on: owner) }
    }
}

final class QuarantineRecordTests: XCTestCase {
    /// A quarantine is one transaction: entries and an incident event (a tail append); the reader
    /// role stops seeing the document at commit; release reverses it, also on the record.
    func testQuarantineIsRecordedOnTheIncidentAndEnforcedByRLS() throws {
        let owner = try TestCluster.owner()
        let suffix = "\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let tenant = "q-\(suffix)"
        try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text(tenant)])
        let collection = try owner.query("INSERT INTO collections (name, dimension, metric) VALUES ($1, 2, 'l2') RETURNING id",
                                         [.text("q-\(suffix)")])[0].integer("id")
        let ids = try DocumentRecords.insert((0..<3).map { DocumentRecord(tenant: tenant, externalID: "d\($0)", text: "t", embedding: [1, 0]) },
                                             collectionID: collection, dimension: 2, on: owner)
        let (incident, _) = try IncidentRecords.declare(title: "hub", severity: .sev1, taxonomyClass: .corpus,
                                                        reporter: "hubscan", detectedAt: Date(), on: owner)
        let reader = try TestCluster.reader()
        func visible() throws -> Int64 {
            try reader.transaction(settings: ["firebreak.tenant": tenant]) { c in
                try c.query("SELECT count(*) AS n FROM documents WHERE collection_id = $1", [.integer(collection)])[0].integer("n")
            }
        }
        XCTAssertEqual(try visible(), 3)

        XCTAssertStoreError(.unknownReference) {
            _ = try QuarantineRecords.quarantine([ids[0], 999_999_999], collectionID: collection, incidentID: incident.id,
                                                 reason: "hub", actor: "ic", on: owner)
        }
        XCTAssertEqual(try QuarantineRecords.active(collectionID: collection, on: owner), [], "a refused request writes nothing")
        XCTAssertEqual(try QuarantineRecords.quarantine([ids[0], ids[1], ids[0]], collectionID: collection, incidentID: incident.id,
                                                        reason: "hub z=9.1", actor: "ic", on: owner), [ids[0], ids[1]])
        XCTAssertEqual(try visible(), 1)
        XCTAssertEqual(try QuarantineRecords.quarantine([ids[0]], collectionID: collection, incidentID: incident.id,
                                                        reason: "again", actor: "ic", on: owner), [], "already quarantined")
        XCTAssertEqual(try QuarantineRecords.release([ids[1]], collectionID: collection, incidentID: incident.id,
                                                     reason: "false positive", actor: "ic", on: owner), [ids[1]])
        XCTAssertEqual(try visible(), 2)
        XCTAssertEqual(try QuarantineRecords.active(collectionID: collection, on: owner), [ids[0]])
        let (_, timeline) = try IncidentRecords.load(incident.id, on: owner)
        XCTAssertEqual(timeline.events.map(\.kind), [.declared, .quarantined, .quarantined, .released])
        // Typed (version 2) and read back from jsonb as written: documents by external id, the
        // row id alongside, counts as numbers; the chain still verifies over the stored bytes.
        let quarantined = try timeline.events[1].decoded(Quarantined.self)
        XCTAssertEqual(timeline.events[1].payloadVersion, EventPayloadVersion.current)
        XCTAssertEqual(quarantined.documents, [DocumentReference(externalID: "d0", rowID: ids[0]),
                                               DocumentReference(externalID: "d1", rowID: ids[1])])
        XCTAssertEqual(quarantined.alreadyQuarantined, 0)
        XCTAssertEqual(timeline.events[2].payload["already_quarantined"], .integer(1))
        XCTAssertEqual(try timeline.events[3].decoded(Released.self).documents, [DocumentReference(externalID: "d1", rowID: ids[1])])
        XCTAssertTrue(timeline.verify().intact)
    }
}
