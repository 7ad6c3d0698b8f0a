import Foundation
import FirebreakTestSupport
import Store
import XCTest

extension DocumentRecordTests {
    /// The rebuild's read: every live row of a tenant in order, in chunks no larger than asked,
    /// bit-exact; the other tenant's and deleted rows left out; a reader that stops early gets
    /// nothing more and leaves the connection usable.
    func testLiveRowsStreamInChunksAndAReaderCanStopEarly() throws {
        let owner = try TestCluster.owner()
        let suffix = "\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let id = try collection(owner, suffix: suffix)
        let (mine, theirs) = ("t-\(suffix)", "u-\(suffix)")
        try owner.query("INSERT INTO tenants (name) VALUES ($1)", [.text(theirs)])
        let records = (0..<23).map { (i: Int) -> DocumentRecord in
            let embedding: [Float] = [Float(i), -0.0, Float.leastNonzeroMagnitude * Float(i + 1)]
            return DocumentRecord(tenant: i % 3 == 0 ? theirs : mine, externalID: "d\(i)", text: "passage ✓ \(i)",
                                  embedding: embedding)
        }
        let ids = try DocumentRecords.insert(records, collectionID: id, dimension: 3, on: owner)
        try owner.query("UPDATE documents SET deleted_at = now() WHERE id = $1", [.integer(ids[1])])
        let expected: [(rowID: Int64, record: DocumentRecord)] = zip(ids, records)
            .map { (rowID: $0.0, record: $0.1) }.filter { $0.record.tenant == mine && $0.rowID != ids[1] }

        var chunks: [[(rowID: Int64, record: DocumentRecord)]] = []
        try DocumentRecords.loadLive(collectionID: id, tenant: mine, chunkRows: 4, on: owner) { chunks.append($0); return true }
        XCTAssertEqual(chunks.map { $0.count }, [4, 4, 4, 2], "full chunks, then the rest")
        let streamed = chunks.flatMap { $0 }
        XCTAssertEqual(streamed.map { $0.rowID }, expected.map { $0.rowID }, "by row id, this tenant's live rows only")
        for (row, (_, record)) in zip(streamed, expected) {
            XCTAssertEqual(row.record.text, record.text)
            XCTAssertEqual(row.record.externalID, record.externalID)
            XCTAssertEqual(row.record.embedding.map(\.bitPattern), record.embedding.map(\.bitPattern))
        }
        let everyTenant = try DocumentRecords.loadLive(collectionID: id, on: owner)
        XCTAssertEqual(everyTenant.count, records.count - 1)

        var handed = 0
        try DocumentRecords.loadLive(collectionID: id, chunkRows: 2, on: owner) { _ in handed += 1; return false }
        XCTAssertEqual(handed, 1, "a reader that stops is handed nothing more")
        XCTAssertEqual(try owner.query("SELECT 41 + 1 AS n")[0].integer("n"), 42, "the connection is usable after a stopped read")
    }

    /// A binary read names the column types it decodes: any other result is refused before a
    /// row is handed over, and a server error inside the read leaves the connection usable.
    func testABinaryReadRefusesColumnsItDoesNotExpect() throws {
        let owner = try TestCluster.owner()
        var rows = 0
        XCTAssertStoreError(.decodingFailed) {
            try owner.forEachBinaryRow("SELECT 1::int4 AS n", [], columns: [.int8]) { _ in rows += 1 }
        }
        XCTAssertStoreError(.invalidData, sqlstate: "22012") {
            try owner.forEachBinaryRow("SELECT (1 / (3 - n))::int8 FROM generate_series(1, 5) AS n", [], columns: [.int8]) { _ in rows += 1 }
        }
        XCTAssertEqual(rows, 2, "rows before the error were handed over, none after")
        XCTAssertEqual(try owner.query("SELECT 41 + 1 AS n")[0].integer("n"), 42)
    }
}
