import FirebreakTestSupport
import Foundation
import Store
import XCTest

/// Idempotency keys as claims: taken before the action, committed with it, completed with
/// the exact response, freed only when nothing took effect.
final class IdempotencyRecordTests: XCTestCase {
    private let token = "tok-\(UUID().uuidString.prefix(8))"

    private func claim(_ key: String, _ digest: String = "req-a", on connection: Connection) throws -> IdempotencyRecords.Claim {
        try IdempotencyRecords.claim(tokenDigest: token, key: key, requestSHA256: digest, on: connection)
    }

    func testAClaimIsHeldThenCompletedWithTheExactBytes() throws {
        let c = try TestCluster.owner()
        XCTAssertEqual(try claim("k1", on: c), .claimed)
        XCTAssertEqual(try claim("k1", on: try TestCluster.owner()), .running, "a second replica sees the claim")
        XCTAssertEqual(try claim("k1", "req-b", on: c), .otherRequest)
        let bytes = Array(#"{"z":1,"a":[2, 3],"seq":7}"#.utf8)
        let stored = IdempotencyRecords.Stored(statusCode: 201, contentType: "application/json", body: bytes, seq: 7)
        try IdempotencyRecords.complete(tokenDigest: token, key: "k1", with: stored, on: c)
        XCTAssertEqual(try claim("k1", on: c), .completed(stored), "the bytes first sent, key order and spaces included")
        try IdempotencyRecords.release(tokenDigest: token, key: "k1", on: c)
        XCTAssertEqual(try claim("k1", on: c), .completed(stored), "a completed key is never released")
    }

    func testACommitMarkTakesEffectOnlyWithItsTransaction() throws {
        let c = try TestCluster.owner()
        XCTAssertEqual(try claim("k2", on: c), .claimed)
        struct Abort: Error {}
        XCTAssertThrowsError(try c.transaction { t in
            try IdempotencyRecords.markCommitted(tokenDigest: token, key: "k2", seq: 41, on: t)
            throw Abort()
        })
        XCTAssertEqual(try claim("k2", on: c), .running, "the action rolled back, and its mark with it")
        try c.transaction { t in try IdempotencyRecords.markCommitted(tokenDigest: token, key: "k2", seq: 42, on: t) }
        XCTAssertEqual(try claim("k2", on: c), .committed(seq: 42))
        try IdempotencyRecords.release(tokenDigest: token, key: "k2", on: c)
        XCTAssertEqual(try claim("k2", on: c), .committed(seq: 42), "a committed claim is kept: a retry must not act twice")
        // An in-flight claim is freed for a retry.
        XCTAssertEqual(try claim("k3", on: c), .claimed)
        try IdempotencyRecords.release(tokenDigest: token, key: "k3", on: c)
        XCTAssertEqual(try claim("k3", on: c), .claimed)
    }

    func testExpiredKeysAndAbandonedClaimsCanBeClaimedAgain() throws {
        let c = try TestCluster.owner()
        for key in ["old", "abandoned", "committed-long-ago"] { XCTAssertEqual(try claim(key, on: c), .claimed) }
        try c.transaction { t in try IdempotencyRecords.markCommitted(tokenDigest: token, key: "committed-long-ago", seq: nil, on: t) }
        try c.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE token_sha256 = $1 AND key = 'old'",
                    [.text(token)])
        try c.query("""
            UPDATE idempotency_keys SET claimed_at = now() - interval '1 hour' WHERE token_sha256 = $1 AND key IN ('abandoned', 'committed-long-ago')
            """, [.text(token)])
        XCTAssertEqual(try claim("old", "req-b", on: c), .claimed, "an expired key is free, whatever it was used for")
        XCTAssertEqual(try claim("abandoned", on: c), .claimed, "its process died before the action committed")
        XCTAssertEqual(try claim("committed-long-ago", on: c), .committed(seq: nil))
    }
}

