/// Stored responses of mutating requests, by (token, Idempotency-Key): a replay gets the
/// stored response instead of acting twice.
public enum IdempotencyRecords {
    public static let keyBytesMax = 255

    public struct Stored: Sendable, Equatable {
        public let requestSHA256: String
        public let statusCode: Int
        public let responseJSON: String
    }

    public static func lookup(tokenDigest: String, key: String, on connection: Connection) throws -> Stored? {
        guard let row = try connection.query("""
            SELECT request_sha256, status_code, response::text AS response FROM idempotency_keys
            WHERE token_sha256 = $1 AND key = $2
            """, [.text(tokenDigest), .text(key)]).first else { return nil }
        return Stored(requestSHA256: try row.string("request_sha256"), statusCode: Int(try row.integer("status_code")),
                      responseJSON: try row.string("response"))
    }

    /// Stores a response; a key stored meanwhile by a concurrent request is left as it is.
    public static func store(tokenDigest: String, key: String, requestSHA256: String, statusCode: Int, responseJSON: String,
                             on connection: Connection) throws {
        try connection.query("""
            INSERT INTO idempotency_keys (key, token_sha256, request_sha256, status_code, response)
            VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (token_sha256, key) DO NOTHING
            """, [.text(key), .text(tokenDigest), .text(requestSHA256), .integer(Int64(statusCode)), .text(responseJSON)])
    }
}
