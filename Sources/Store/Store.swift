// Store — PostgreSQL, through libpq, as the system of record.
//
// Owns: connections and a pool whose blocking libpq calls run on threads of their own (never
// on Swift's cooperative pool or a server event loop), parameterised statements and typed
// row decoding, transactions with per-transaction settings (the tenant that row-level
// security admits), LISTEN/NOTIFY, the versioned migrations applied at start-up, and the
// embedded PostgreSQL launcher used when no database URL is given.
//
// Never: builds SQL from strings (every statement is a `StaticString` literal with `$n`
// parameters; only the migration files shipped with Firebreak run as scripts); knows HTTP;
// lets a libpq error escape untyped (every failure is a `StoreError`, with its SQLSTATE
// when the server sent one).
//
// Invariants:
// - A connection is used by one thread at a time: the pool hands it out exclusively and
//   runs the caller's block on that connection's own serial queue.
// - A transaction either commits or is rolled back before its connection returns to the pool.
// - Migrations apply in version order, each in its own transaction, recorded with its
//   SHA-256; an applied migration whose file later changed is refused, not re-run.

/// The one error type of the Store module. Switch on `code` (and `sqlstate`), never on `message`.
public struct StoreError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case connectionFailed = "connection_failed"
        case queryFailed = "query_failed"
        /// A constraint refused the write (SQLSTATE class 23: unique, foreign key, check, not null).
        case constraintViolation = "constraint_violation"
        /// The server refused the data itself (SQLSTATE class 22: invalid encoding, out of range).
        case invalidData = "invalid_data"
        case insufficientPrivilege = "insufficient_privilege"
        case decodingFailed = "decoding_failed"
        case migrationFailed = "migration_failed"
        case launcherFailed = "launcher_failed"
        case timeout = "timeout"
        /// COMMIT was sent but no answer came back (the connection broke): the transaction may
        /// or may not have committed. The caller finds out from the record, never assumes.
        case commitUnknown = "commit_unknown"
        /// Every pooled connection stayed busy past the pool's wait (the API answers 503 busy).
        case poolExhausted = "busy"
        /// The caller's input was refused before anything was written.
        case invalidInput = "invalid_input"
        /// A referenced row (tenant, collection, incident) does not exist.
        case unknownReference = "unknown_reference"
    }

    public let code: Code
    public let message: String
    /// The five-character SQLSTATE the server reported, when there was one.
    public let sqlstate: String?

    public init(_ code: Code, _ message: String, sqlstate: String? = nil) {
        self.code = code
        self.message = message
        self.sqlstate = sqlstate
    }

    /// Maps a server error to a code by its SQLSTATE class.
    static func server(_ message: String, sqlstate: String?) -> StoreError {
        let code: Code
        switch sqlstate?.prefix(2) {
        case "23" where sqlstate == "23503": code = .unknownReference
        case "23": code = .constraintViolation
        case "22": code = .invalidData
        case "42" where sqlstate == "42501": code = .insufficientPrivilege
        case "08": code = .connectionFailed
        case "57" where sqlstate == "57014": code = .timeout
        default: code = .queryFailed
        }
        return StoreError(code, message, sqlstate: sqlstate)
    }

    public var description: String {
        "\(code.rawValue)\(sqlstate.map { " [\($0)]" } ?? ""): \(message)"
    }
}

/// The database roles the migrations create (see `0002`, `0013` and `0016`).
public enum DatabaseRoles {
    /// The role the service runs as: it may read and write its tables, and only append to
    /// the incident timeline. It owns nothing.
    public static let service = "firebreak_service"
    /// The role row-level security filters: reads of documents on behalf of one tenant.
    public static let reader = "firebreak_reader"
    /// The only role that may edit incident events (a documented repair outside the API).
    public static let maintenance = "firebreak_maintenance"
}
