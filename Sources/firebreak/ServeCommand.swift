import ArgumentParser
import Foundation
import Hummingbird
import Server
import Store

/// `firebreak serve`: the HTTP API on the embedded (or an external) PostgreSQL.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API that RAG services query through (see docs/API.md and /openapi.json).",
        discussion: """
        Starts the embedded PostgreSQL in --data-dir unless --database-url (or FIREBREAK_DATABASE_URL)
        names one, applies the migrations, loads every collection into memory and listens.
        On the first start it prints a one-time admin token on stderr, or registers the one in
        FIREBREAK_ADMIN_TOKEN. Stop it with Ctrl-C or SIGTERM: in-flight requests finish first.
        """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one and prints it).") var port = 7420
    @Option(help: "PostgreSQL connections in the pool.") var poolSize = 8
    @Option(help: "Largest request body in bytes (bodyBytesMax); larger is 413.") var bodyBytesMax = ServerLimits().bodyBytesMax
    @Option(help: "Requests served at once (concurrentRequestsMax); more get 503.")
    var concurrentRequestsMax = ServerLimits().concurrentRequestsMax
    @Option(help: "Folder snapshots are published in (or FIREBREAK_SNAPSHOT_DIR; default: <data-dir>/snapshots).")
    var snapshotDir: String?
    @OptionGroup var database: DatabaseOptions

    var snapshotDirectory: String {
        snapshotDir ?? ProcessInfo.processInfo.environment["FIREBREAK_SNAPSHOT_DIR"]
            ?? (database.dataDir ?? EmbeddedPostgres.defaultDataDirectory()) + "/snapshots"
    }

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (1...ConnectionPool.connectionsMax).contains(poolSize) else {
            throw ValidationError("--pool-size must be in 1...\(ConnectionPool.connectionsMax)")
        }
        guard bodyBytesMax >= 1_024 else { throw ValidationError("--body-bytes-max must be at least 1024") }
        guard concurrentRequestsMax >= 1 else { throw ValidationError("--concurrent-requests-max must be at least 1") }
    }

    func run() async throws {
        var embedded: EmbeddedPostgres?
        let conninfo: String
        if let url = database.externalURL {
            conninfo = url
        } else {
            let server = try database.embedded()
            if try !server.isRunning() {
                Console.progress("starting the embedded PostgreSQL in \(server.dataDirectory)")
                embedded = server
            }
            conninfo = try server.start()
        }
        defer { if let embedded { try? embedded.stop() } }
        var configuration = FirebreakServer.Configuration(conninfo: conninfo, snapshotDirectory: snapshotDirectory)
        configuration.host = host
        configuration.port = port
        configuration.poolSize = poolSize
        configuration.limits.bodyBytesMax = bodyBytesMax
        configuration.limits.concurrentRequestsMax = concurrentRequestsMax
        let server = try await FirebreakServer.prepare(configuration) { Console.progress($0) }
        if let token = try await server.bootstrapAdminToken() {
            Console.progress("""
                ───────────────────────────────────────────────────────────────────────────
                First start: an admin token was created. It is shown once; store it now.
                  export FIREBREAK_TOKEN=\(token)
                ───────────────────────────────────────────────────────────────────────────
                """)
        }
        let listener = server.startQuarantineListener()
        defer { listener.stop(); server.scheduler.stop() }
        let host = self.host
        let app = server.application { port in Console.progress("firebreak is serving on http://\(host):\(port)") }
        try await app.runService()
        await server.collections.retrievalLog.stop()
    }
}
