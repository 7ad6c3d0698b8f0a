/// Idempotency keys by (token, key), as the IETF draft and Stripe mean them. A key is claimed
/// before its request acts, so a second request with it, on any replica, is refused while the
/// first runs; it is marked committed inside the action's own transaction (`markCommitted`,
/// called by the engine's write path), so a retry never acts twice even when the response was
/// lost; and it is completed with the exact response bytes, which a replay returns unchanged.
/// Keys expire after `lifetimeSeconds`.
public enum IdempotencyRecords {
    public static let keyBytesMax = 255
    public static let lifetimeSeconds = 86_400
    /// A claim this old whose action never committed is abandoned (its process died before
    /// the action's transaction committed) and may be claimed again.
    public static let abandonedSecondsMax = 600

    /// A completed request's response, exactly as first sent.
    public struct Stored: Sendable, Equatable {
        public let statusCode: Int
        public let contentType: String
        public let body: [UInt8]
        public let seq: Int64?

        public init(statusCode: Int, contentType: String, body: [UInt8], seq: Int64?) {
            self.statusCode = statusCode
            self.contentType = contentType
            self.body = body
            self.seq = seq
        }
    }

    /// What claiming a key found.
    public enum Claim: Sendable, Equatable {
        /// The caller holds the key now and may act.
        case claimed
        /// The key was used for another method, path or body.
        case otherRequest
        /// The key's first request is still running (here or on another replica).
        case running
        /// The first request took effect (at `seq`, when it appended a change) but its
        /// response was not stored.
        case committed(seq: Int64?)
        case completed(Stored)
    }

    public static func claim(tokenDigest: String, key: String, requestSHA256: String, on connection: Connection) throws -> Claim {
        try connection.transaction { c in
            try c.query("""
                DELETE FROM idempotency_keys WHERE token_sha256 = $1 AND key = $2
                  AND (expires_at <= now() OR (state = 'in_flight' AND claimed_at <= now() - make_interval(secs => $3)))
                """, [.text(tokenDigest), .text(key), .integer(Int64(abandonedSecondsMax))])
            let inserted = try c.query("""
                INSERT INTO idempotency_keys (token_sha256, key, request_sha256, state, expires_at)
                VALUES ($1, $2, $3, 'in_flight', now() + make_interval(secs => $4))
                ON CONFLICT (token_sha256, key) DO NOTHING RETURNING key
                """, [.text(tokenDigest), .text(key), .text(requestSHA256), .integer(Int64(lifetimeSeconds))])
            if !inserted.isEmpty { return .claimed }
            guard let row = try c.query("""
                SELECT request_sha256, state, seq, status_code, content_type, response FROM idempotency_keys
                WHERE token_sha256 = $1 AND key = $2
                """, [.text(tokenDigest), .text(key)]).first else { return .running }
            guard try row.string("request_sha256") == requestSHA256 else { return .otherRequest }
            let seq = try row.optionalString("seq").flatMap { Int64($0) }
            switch try row.string("state") {
            case "in_flight": return .running
            case "committed": return .committed(seq: seq)
            default:
                return .completed(Stored(statusCode: Int(try row.integer("status_code")), contentType: try row.string("content_type"),
                                         body: try row.bytes("response"), seq: seq))
            }
        }
    }

    /// Inside the action's own transaction: the claimed request takes effect with it.
    public static func markCommitted(tokenDigest: String, key: String, seq: Int64?, on connection: Connection) throws {
        try connection.query("""
            UPDATE idempotency_keys SET state = 'committed', seq = greatest(seq, $3)
            WHERE token_sha256 = $1 AND key = $2 AND state IN ('in_flight', 'committed')
            """, [.text(tokenDigest), .text(key), seq.map(SQLValue.integer) ?? .null])
    }

    /// Stores the response a claimed request sent; replays return exactly these bytes.
    public static func complete(tokenDigest: String, key: String, with stored: Stored, on connection: Connection) throws {
        try connection.query("""
            UPDATE idempotency_keys SET state = 'completed', status_code = $3, content_type = $4, response = $5,
                                        seq = coalesce($6, seq)
            WHERE token_sha256 = $1 AND key = $2 AND state IN ('in_flight', 'committed')
            """, [.text(tokenDigest), .text(key), .integer(Int64(stored.statusCode)), .text(stored.contentType), .bytes(stored.body),
                  stored.seq.map(SQLValue.integer) ?? .null])
    }

    /// Frees a claim whose request failed before it took effect, so the client may retry.
    /// A committed claim is kept: releasing it could let a retry act twice.
    public static func release(tokenDigest: String, key: String, on connection: Connection) throws {
        try connection.query("DELETE FROM idempotency_keys WHERE token_sha256 = $1 AND key = $2 AND state = 'in_flight'",
                             [.text(tokenDigest), .text(key)])
    }

    /// Removes expired keys (retention).
    @discardableResult
    public static func removeExpired(on connection: Connection) throws -> Int {
        try connection.query("DELETE FROM idempotency_keys WHERE expires_at <= now() RETURNING key").count
    }
}
