// ConsoleSessions — who is signed in to the console, kept in PostgreSQL
// (`ConsoleSessionRecords`), so every replica knows every session and a restart signs nobody
// out.
//
// Owns: session ids (the cookie's value), each session's CSRF token, its expiry, its
// one-shot notice (the "released 1 document" line after an action) and the one-time keys of
// the forms it submitted (a form is acted on once, like an Idempotency-Key on the API).
// Never: stores the session id (only its SHA-256) or the API token itself (only its digest,
// re-checked against `api_tokens` on every request, so a revoked token ends its sessions);
// hands out a session past its expiry; compares a CSRF token in time that depends on where it
// differs.
// Invariants: ids and CSRF tokens are 32 random bytes as hex, form keys 16; at most
// `sessionsMax` sessions (the oldest are dropped first) and `formKeysMax` keys per session.

import Crypto
import Foundation
import Hex
import Store

struct ConsoleSessions: Sendable {
    static let lifetimeSeconds = 12 * 3600
    static let sessionsMax = 10_000
    static let formKeysMax = 256
    static let cookieName = "firebreak_console"

    struct Session: Sendable, Equatable {
        let id: String
        let csrf: String
        /// The token's SHA-256: re-validated on every request.
        let tokenDigest: String
        let expires: Date
    }

    let pool: ConnectionPool

    /// A new session for the token with this digest.
    func open(tokenDigest: String, now: Date = Date()) async throws -> Session {
        let session = Session(id: Self.randomHex(), csrf: Self.randomHex(), tokenDigest: tokenDigest,
                              expires: now.addingTimeInterval(TimeInterval(Self.lifetimeSeconds)))
        let row = ConsoleSessionRecords.Row(idSHA256: Self.digest(session.id), csrf: session.csrf, tokenDigest: tokenDigest,
                                            expiresAt: session.expires)
        try await pool.withConnection { try ConsoleSessionRecords.open(row, sessionsMax: Self.sessionsMax, on: $0) }
        return session
    }

    /// The live session with this id, or nil (malformed, unknown or expired).
    func session(id: String?) async throws -> Session? {
        guard let id, id.utf8.count == 64, id.allSatisfy(\.isHexDigit) else { return nil }
        let digest = Self.digest(id)
        guard let row = try await pool.withConnection({ try ConsoleSessionRecords.live(idSHA256: digest, on: $0) }) else { return nil }
        return Session(id: id, csrf: row.csrf, tokenDigest: row.tokenDigest, expires: row.expiresAt)
    }

    func close(id: String) async throws {
        let digest = Self.digest(id)
        try await pool.withConnection { try ConsoleSessionRecords.close(idSHA256: digest, on: $0) }
    }

    /// A line the next page of this session shows once.
    func post(notice: String, to id: String) async throws {
        let digest = Self.digest(id)
        try await pool.withConnection { try ConsoleSessionRecords.post(notice: notice, to: digest, on: $0) }
    }

    func takeNotice(of id: String) async throws -> String? {
        let digest = Self.digest(id)
        return try await pool.withConnection { try ConsoleSessionRecords.takeNotice(of: digest, on: $0) }
    }

    /// Claims a form's one-time key for this session: false when it was submitted before (a
    /// double click, a reload of the POST, the back button) or is malformed, so the action is
    /// not taken twice. Like an Idempotency-Key on the API, the key is optional: a post
    /// without one (a script) is acted on each time.
    func claim(formKey: String?, of id: String) async throws -> Bool {
        guard let formKey else { return true }
        guard formKey.utf8.count == 32, formKey.allSatisfy(\.isHexDigit) else { return false }
        let digest = Self.digest(id)
        return try await pool.withConnection {
            try ConsoleSessionRecords.claim(formKey: formKey, of: digest, keysMax: Self.formKeysMax, on: $0)
        }
    }

    /// Whether `given` is this session's CSRF token (constant time in the token's length).
    static func csrfMatches(_ given: String?, _ session: Session) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8), b = Array(session.csrf.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// A new form key (16 random bytes as hex).
    static func formKey() -> String { String(randomHex().prefix(32)) }

    static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexEncoded
    }

    static func digest(_ id: String) -> String { SHA256.hash(data: Data(id.utf8)).hexEncoded }
}
