import Crypto
import Foundation
import Hex

/// One schema migration: `Sources/Store/Migrations/NNNN_name.sql` (also reachable as
/// `sql/migrations`), shipped inside the binary's resource bundle.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// Hex SHA-256 of the file; recorded when applied, compared on every later start.
    public let sha256: String

    public init(version: Int, name: String, sql: String, sha256: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.sha256 = sha256
    }
}

/// Applies the bundled migrations in version order, each in its own transaction under an
/// advisory lock (two starting replicas never apply one twice), and records them in
/// `firebreak_migrations`. Running it again applies nothing. An applied migration whose
/// file has changed since is refused (`migration_failed`): history is never rewritten.
public enum Migrator {
    /// Arbitrary but fixed: the advisory-lock key that serialises migrations.
    static let lockKey: Int64 = 0x4642_4D49_4752  // "FBMIGR"

    public static func bundled() throws(StoreError) -> [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw StoreError(.migrationFailed, "the migrations folder is missing from the Store resource bundle")
        }
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        } catch {
            throw StoreError(.migrationFailed, "cannot list \(folder.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in files {
            guard let underscore = file.firstIndex(of: "_"), let version = Int(file[..<underscore]),
                  let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path),
                  let sql = String(data: data, encoding: .utf8) else {
                throw StoreError(.migrationFailed, "\(file): expected NNNN_name.sql in UTF-8")
            }
            let name = String(file[file.index(after: underscore)...].dropLast(4))
            let digest = SHA256.hash(data: data).hexEncoded
            migrations.append(Migration(version: version, name: name, sql: sql, sha256: digest))
        }
        guard Set(migrations.map(\.version)).count == migrations.count else {
            throw StoreError(.migrationFailed, "two migration files share a version number")
        }
        return migrations
    }

    /// Applies what is missing; returns the migrations applied by this call.
    @discardableResult
    public static func migrate(_ connection: Connection, migrations: [Migration]? = nil) throws -> [Migration] {
        let all = try migrations ?? bundled()
        try connection.query("""
            CREATE TABLE IF NOT EXISTS firebreak_migrations (
                version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """)
        var applied: [Migration] = []
        for migration in all {
            let didApply = try connection.transaction { connection in
                try connection.query("SELECT pg_advisory_xact_lock($1)", [.integer(lockKey)])
                let recorded = try connection.query("SELECT sha256 FROM firebreak_migrations WHERE version = $1",
                                                    [.integer(Int64(migration.version))])
                if let row = recorded.first {
                    guard try row.string("sha256") == migration.sha256 else {
                        throw StoreError(.migrationFailed, "migration \(migration.version) (\(migration.name)) was changed after it was applied; add a new migration instead")
                    }
                    return false
                }
                do {
                    try connection.runScript(migration.sql)
                } catch let error as StoreError {
                    throw StoreError(.migrationFailed, "migration \(migration.version) (\(migration.name)): \(error.message)", sqlstate: error.sqlstate)
                }
                try connection.query("INSERT INTO firebreak_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                                     [.integer(Int64(migration.version)), .text(migration.name), .text(migration.sha256)])
                return true
            }
            if didApply { applied.append(migration) }
        }
        return applied
    }

    public struct Status: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let applied: Bool
    }

    /// Every bundled migration and whether this database has it.
    public static func status(_ connection: Connection) throws -> [Status] {
        let exists = try connection.query("SELECT to_regclass('firebreak_migrations') IS NOT NULL AS present")
        let recorded: Set<Int64> = try exists.first?.boolean("present") == true
            ? Set(connection.query("SELECT version FROM firebreak_migrations").map { try $0.integer("version") }) : []
        return try bundled().map { Status(version: $0.version, name: $0.name, applied: recorded.contains(Int64($0.version))) }
    }
}
