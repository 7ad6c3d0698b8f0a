import Foundation

/// The console's sessions (table `console_sessions`): keyed by the SHA-256 of the cookie's id,
/// each with its CSRF token, the digest of the API token it signed in with, its expiry, its
/// one-shot notice and the one-time keys of the forms it submitted.
/// Never: stores a session id or an API token in the clear; returns an expired session.
public enum ConsoleSessionRecords {
    public struct Row: Sendable, Equatable {
        public let idSHA256: String
        public let csrf: String
        public let tokenDigest: String
        public let expiresAt: Date

        public init(idSHA256: String, csrf: String, tokenDigest: String, expiresAt: Date) {
            self.idSHA256 = idSHA256
            self.csrf = csrf
            self.tokenDigest = tokenDigest
            self.expiresAt = expiresAt
        }
    }

    /// Stores a new session; first drops the expired ones and, past `sessionsMax`, the oldest.
    public static func open(_ row: Row, sessionsMax: Int, on connection: Connection) throws {
        try connection.query("DELETE FROM console_sessions WHERE expires_at <= now()")
        try connection.query("""
            DELETE FROM console_sessions WHERE id_sha256 IN (
                SELECT id_sha256 FROM console_sessions ORDER BY expires_at DESC OFFSET $1)
            """, [.integer(Int64(max(sessionsMax - 1, 0)))])
        try connection.query("""
            INSERT INTO console_sessions (id_sha256, csrf, token_digest, expires_at)
            VALUES ($1, $2, $3, to_timestamp($4))
            """, [.text(row.idSHA256), .text(row.csrf), .text(row.tokenDigest), .real(row.expiresAt.timeIntervalSince1970)])
    }

    /// The live session with this id digest, or nil (unknown or expired).
    public static func live(idSHA256: String, on connection: Connection) throws -> Row? {
        guard let row = try connection.query("""
            SELECT id_sha256, csrf, token_digest, extract(epoch FROM expires_at)::float8 AS expires
            FROM console_sessions WHERE id_sha256 = $1 AND expires_at > now()
            """, [.text(idSHA256)]).first else { return nil }
        return Row(idSHA256: try row.string("id_sha256"), csrf: try row.string("csrf"), tokenDigest: try row.string("token_digest"),
                   expiresAt: Date(timeIntervalSince1970: try row.real("expires")))
    }

    public static func close(idSHA256: String, on connection: Connection) throws {
        try connection.query("DELETE FROM console_sessions WHERE id_sha256 = $1", [.text(idSHA256)])
    }

    public static func post(notice: String, to idSHA256: String, on connection: Connection) throws {
        try connection.query("UPDATE console_sessions SET notice = $2 WHERE id_sha256 = $1", [.text(idSHA256), .text(notice)])
    }

    /// The session's notice, cleared as it is read (one statement: two pages cannot both show it).
    public static func takeNotice(of idSHA256: String, on connection: Connection) throws -> String? {
        try connection.query("""
            WITH old AS (SELECT notice FROM console_sessions WHERE id_sha256 = $1 AND notice IS NOT NULL FOR UPDATE)
            UPDATE console_sessions SET notice = NULL FROM old WHERE id_sha256 = $1 RETURNING old.notice
            """, [.text(idSHA256)]).first?.optionalString("notice")
    }

    /// Records a form key as submitted; false when the session already submitted it (or is
    /// gone). Atomic under the row's lock; keeps the newest `keysMax`.
    public static func claim(formKey: String, of idSHA256: String, keysMax: Int, on connection: Connection) throws -> Bool {
        !(try connection.query("""
            UPDATE console_sessions
            SET form_keys = (form_keys || $2::text)[greatest(1, cardinality(form_keys) + 2 - $3) :]
            WHERE id_sha256 = $1 AND expires_at > now() AND NOT ($2 = ANY (form_keys))
            RETURNING 1
            """, [.text(idSHA256), .text(formKey), .integer(Int64(keysMax))]).isEmpty)
    }
}
