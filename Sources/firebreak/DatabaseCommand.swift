import ArgumentParser
import Foundation
import Store

/// Where the system of record lives: an external PostgreSQL, or Firebreak's embedded one.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Folder of the embedded PostgreSQL (default: ~/.local/share/firebreak; /var/lib/firebreak for root).")
    var dataDir: String?
    @Option(help: "libpq URL of an external PostgreSQL (or FIREBREAK_DATABASE_URL); overrides --data-dir.")
    var databaseURL: String?

    var externalURL: String? { databaseURL ?? ProcessInfo.processInfo.environment["FIREBREAK_DATABASE_URL"] }

    func embedded() throws -> EmbeddedPostgres {
        try EmbeddedPostgres(dataDirectory: dataDir ?? EmbeddedPostgres.defaultDataDirectory())
    }

    /// Runs `body` with a connection; an embedded server this call had to start is stopped after.
    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        if let url = externalURL { return try body(Connection(url)) }
        let server = try embedded()
        let wasRunning = try server.isRunning()
        if !wasRunning { Console.progress("starting the embedded PostgreSQL in \(server.dataDirectory)") }
        try server.start()
        defer { if !wasRunning { try? server.stop() } }
        return try body(Connection(server.conninfo()))
    }
}

/// `firebreak db …`: the system of record's lifecycle.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Start, stop and migrate the PostgreSQL that holds Firebreak's records.",
        discussion: """
        Without --database-url (or FIREBREAK_DATABASE_URL), Firebreak runs its own PostgreSQL from \
        the installed server binaries in --data-dir, listening on a Unix socket only. As root it \
        runs the server as the postgres system user.
        """,
        subcommands: [Migrate.self, Status.self, Start.self, Stop.self, Restart.self]
    )

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the migrations this database lacks (safe to run twice).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let applied = try database.withConnection { try Migrator.migrate($0) }
            if json {
                try Console.printJSON(["applied": applied.map { "\($0.version)_\($0.name)" }])
            } else {
                print(applied.isEmpty ? "up to date" : applied.map { "applied \($0.version) \($0.name)" }.joined(separator: "\n"))
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show which migrations this database has.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print JSON.") var json = false

        struct Line: Encodable { let version: Int; let name: String; let applied: Bool }

        func run() throws {
            let status = try database.withConnection { try Migrator.status($0) }
            if json {
                try Console.printJSON(status.map { Line(version: $0.version, name: $0.name, applied: $0.applied) })
            } else {
                for line in status { print("\(line.applied ? "applied" : "pending") \(line.version) \(line.name)") }
            }
        }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the embedded PostgreSQL, migrate it, print its connection string.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            guard database.externalURL == nil else { throw ValidationError("start manages the embedded server; an external one is not Firebreak's to start") }
            let server = try database.embedded()
            let conninfo = try server.start()
            try Migrator.migrate(Connection(conninfo))
            print(conninfo)
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded PostgreSQL cleanly.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            guard database.externalURL == nil else { throw ValidationError("stop manages the embedded server only") }
            try database.embedded().stop()
        }
    }

    struct Restart: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restart the embedded PostgreSQL (fast shutdown, then start), for example after a configuration change.",
            discussion: """
            Running transactions are rolled back and every connection is dropped. A running             `firebreak serve` answers writes 503 until the server is back, keeps serving searches             from memory, and reconnects by itself (its change listener resynchronises).
            """)
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            guard database.externalURL == nil else { throw ValidationError("restart manages the embedded server only") }
            print(try database.embedded().restart())
        }
    }
}
