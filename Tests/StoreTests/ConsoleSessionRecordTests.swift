import FirebreakTestSupport
import Foundation
import Store
import XCTest

/// Console sessions in PostgreSQL: found by any connection (any replica) until they expire,
/// a notice shown once, a form key claimed once, and the bounds held.
final class ConsoleSessionRecordTests: XCTestCase {
    private func row(expiresIn seconds: TimeInterval = 3600) -> ConsoleSessionRecords.Row {
        func hex() -> String { (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        return ConsoleSessionRecords.Row(idSHA256: hex(), csrf: hex(), tokenDigest: "digest-\(UUID().uuidString.prefix(8))",
                                         expiresAt: Date().addingTimeInterval(seconds))
    }

    func testASessionIsSeenByEveryConnectionUntilItExpiresOrCloses() throws {
        let a = try TestCluster.owner(), b = try TestCluster.owner()
        let session = row()
        try ConsoleSessionRecords.open(session, sessionsMax: 10_000, on: a)
        let found = try XCTUnwrap(try ConsoleSessionRecords.live(idSHA256: session.idSHA256, on: b), "another replica sees it")
        XCTAssertEqual(found.csrf, session.csrf)
        XCTAssertEqual(found.tokenDigest, session.tokenDigest)
        XCTAssertEqual(found.expiresAt.timeIntervalSince1970, session.expiresAt.timeIntervalSince1970, accuracy: 0.01)

        let expired = row(expiresIn: -1)
        try ConsoleSessionRecords.open(expired, sessionsMax: 10_000, on: a)
        XCTAssertNil(try ConsoleSessionRecords.live(idSHA256: expired.idSHA256, on: b), "an expired session is never handed out")
        try ConsoleSessionRecords.close(idSHA256: session.idSHA256, on: b)
        XCTAssertNil(try ConsoleSessionRecords.live(idSHA256: session.idSHA256, on: a))
    }

    func testANoticeIsShownOnceAndAFormKeyIsClaimedOnce() throws {
        let c = try TestCluster.owner()
        let session = row()
        try ConsoleSessionRecords.open(session, sessionsMax: 10_000, on: c)
        XCTAssertNil(try ConsoleSessionRecords.takeNotice(of: session.idSHA256, on: c))
        try ConsoleSessionRecords.post(notice: "Released acme-1", to: session.idSHA256, on: c)
        XCTAssertEqual(try ConsoleSessionRecords.takeNotice(of: session.idSHA256, on: c), "Released acme-1")
        XCTAssertNil(try ConsoleSessionRecords.takeNotice(of: session.idSHA256, on: c), "once")

        XCTAssertTrue(try ConsoleSessionRecords.claim(formKey: "k0", of: session.idSHA256, keysMax: 3, on: c))
        XCTAssertFalse(try ConsoleSessionRecords.claim(formKey: "k0", of: session.idSHA256, keysMax: 3, on: c), "twice: refused")
        for key in ["k1", "k2", "k3"] { XCTAssertTrue(try ConsoleSessionRecords.claim(formKey: key, of: session.idSHA256, keysMax: 3, on: c)) }
        let kept = try c.query("SELECT array_to_string(form_keys, ',') AS keys FROM console_sessions WHERE id_sha256 = $1",
                               [.text(session.idSHA256)])[0].string("keys")
        XCTAssertEqual(kept, "k1,k2,k3", "the newest keysMax are kept, the oldest forgotten")
        // Another digest: the first hex digit changed (prefixing "0" kept it when it already was
        // "0", one run in 16).
        let other = (session.idSHA256.first == "0" ? "1" : "0") + session.idSHA256.dropFirst()
        XCTAssertFalse(try ConsoleSessionRecords.claim(formKey: "k9", of: other, keysMax: 3, on: c), "no session, no claim")
    }

    func testOpeningPastTheBoundDropsTheOldestSessions() throws {
        let c = try TestCluster.owner()
        try c.query("DELETE FROM console_sessions")
        let rows = (0..<5).map { row(expiresIn: 3600 + Double($0)) }
        for session in rows { try ConsoleSessionRecords.open(session, sessionsMax: 3, on: c) }
        let left = try c.query("SELECT count(*)::bigint AS n FROM console_sessions")[0].integer("n")
        XCTAssertEqual(left, 3)
        XCTAssertNil(try ConsoleSessionRecords.live(idSHA256: rows[0].idSHA256, on: c), "the oldest went first")
        XCTAssertNotNil(try ConsoleSessionRecords.live(idSHA256: rows[4].idSHA256, on: c))
    }
}
