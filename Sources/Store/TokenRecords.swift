import Crypto
import Foundation
import Hex

/// API bearer tokens. Only the SHA-256 of a token is stored; the token itself is shown once.
public enum TokenRecords {
    public static let roles: Set<String> = ["reader", "retrieval_owner", "incident_commander", "admin"]
    /// Every token starts with this, so a leaked one is easy to recognise in logs and scanners.
    public static let prefix = "fbk_"

    public struct Grant: Sendable, Equatable {
        public let id: Int64
        public let role: String
        public let tenant: String?
    }

    /// A new random token (32 bytes from the system's CSPRNG, hex).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexEncoded
    }

    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexEncoded
    }

    /// Stores `token` (hashed) with a role and optional tenant scope.
    @discardableResult
    public static func insert(_ token: String, role: String, tenant: String?, on connection: Connection) throws -> Grant {
        guard roles.contains(role) else { throw StoreError(.invalidInput, "unknown role \(role)") }
        return try connection.transaction { c in
            if let tenant { try CollectionRecords.ensureTenants([tenant], on: c) }
            let id = try c.query("INSERT INTO api_tokens (token_sha256, role, tenant) VALUES ($1, $2, $3) RETURNING id",
                                 [.text(digest(token)), .text(role), tenant.map(SQLValue.text) ?? .null])[0].integer("id")
            return Grant(id: id, role: role, tenant: tenant)
        }
    }

    /// The grant of an unrevoked token, or nil.
    public static func lookup(digest: String, on connection: Connection) throws -> Grant? {
        guard let row = try connection.query("""
            SELECT id, role, tenant FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL
            """, [.text(digest)]).first else { return nil }
        return Grant(id: try row.integer("id"), role: try row.string("role"), tenant: try row.optionalString("tenant"))
    }

    /// Whether any admin token exists (the first start creates one).
    public static func hasAdmin(on connection: Connection) throws -> Bool {
        !(try connection.query("SELECT 1 FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1").isEmpty)
    }
}
