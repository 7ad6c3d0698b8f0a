import ArgumentParser
import FirebreakAPI
import Foundation
import Engine
import Hummingbird
import Logging
import Server
import ServiceLifecycle
import Store

/// `firebreak serve`: the HTTP API on the embedded (or an external) PostgreSQL.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API that RAG services query through (see docs/API.md and /openapi.json).",
        discussion: """
        Starts the embedded PostgreSQL in --data-dir unless --database-url (or FIREBREAK_DATABASE_URL) \
        names one, applies the migrations, loads every collection into memory and listens. \
        On the first start it prints a one-time admin token on stderr, or registers the one in \
        FIREBREAK_ADMIN_TOKEN. Stop it with Ctrl-C or SIGTERM: in-flight requests finish first.
        """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one and prints it).") var port = 7420
    @Option(help: "PostgreSQL connections in the pool.") var poolSize = 8
    @Option(help: "How long a request waits for a free connection before it is answered 503 busy (seconds).")
    var poolWaitSeconds = ConnectionPool.waitSecondsDefault
    @Option(help: "Largest request body in bytes (bodyBytesMax); larger is 413.") var bodyBytesMax = ServerLimits().bodyBytesMax
    @Option(help: "Requests served at once (concurrentRequestsMax); more get 503.")
    var concurrentRequestsMax = ServerLimits().concurrentRequestsMax
    @Option(help: "This replica's name, unique among the processes serving one database (heartbeats, --wait-all).")
    var replicaID = "replica-1"
    @Option(help: "How long a read with min_seq waits for this replica to apply it before answering 503 replica_behind.")
    var consistencyWaitMs = 1_000
    @Option(help: "Take a snapshot of a collection after this many changes to it.")
    var snapshotEveryChanges = 10_000
    @Option(help: "Take a snapshot of a collection this often (seconds) when it changed since the last one.")
    var snapshotEverySeconds = 3_600
    @Option(help: "Ed25519 key that signs incident exports (raw 32 bytes; created 0600 on first use). Default: <data-dir>/incident-signing.key.")
    var signingKey: String?
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var snapshots: SnapshotStoreOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard (1...ConnectionPool.connectionsMax).contains(poolSize) else {
            throw ValidationError("--pool-size must be in 1...\(ConnectionPool.connectionsMax)")
        }
        guard (0.1...60).contains(poolWaitSeconds) else { throw ValidationError("--pool-wait-seconds must be in 0.1...60") }
        guard bodyBytesMax >= 1_024 else { throw ValidationError("--body-bytes-max must be at least 1024") }
        guard concurrentRequestsMax >= 1 else { throw ValidationError("--concurrent-requests-max must be at least 1") }
        guard replicaID.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", options: .regularExpression) != nil else {
            throw ValidationError("--replica-id must be 1-63 letters, digits, '_', '.' or '-'")
        }
        guard (0...60_000).contains(consistencyWaitMs) else { throw ValidationError("--consistency-wait-ms must be in 0...60000") }
        guard snapshotEveryChanges >= 1, snapshotEverySeconds >= 1 else {
            throw ValidationError("--snapshot-every-changes and --snapshot-every-seconds must be at least 1")
        }
    }

    func run() async throws {
        let faults = try FaultInjection.armFromEnvironment(ProcessInfo.processInfo.environment)
        if !faults.isEmpty { Console.progress("failpoints armed (a test build): \(faults.joined(separator: ", "))") }
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
        let store = try snapshots.store(defaultFolder: (database.dataDir ?? EmbeddedPostgres.defaultDataDirectory()) + "/snapshots")
        Console.progress("snapshots are kept in \(store.location)")
        var configuration = FirebreakServer.Configuration(conninfo: conninfo, snapshotStore: store)
        configuration.host = host
        configuration.port = port
        configuration.poolSize = poolSize
        configuration.poolWaitSeconds = poolWaitSeconds
        configuration.limits.bodyBytesMax = bodyBytesMax
        configuration.limits.concurrentRequestsMax = concurrentRequestsMax
        configuration.replicaID = replicaID
        configuration.consistencyWaitMs = consistencyWaitMs
        configuration.snapshotEveryChanges = snapshotEveryChanges
        configuration.snapshotEverySeconds = snapshotEverySeconds
        configuration.signingKey = try IncidentSigningKey.load(at: signingKey ?? IncidentSigningKey.defaultPath(
            dataDirectory: database.dataDir ?? EmbeddedPostgres.defaultDataDirectory()))
        let spanExport = try TraceExport.bootstrap()
        configuration.exportsSpans = spanExport != nil
        let server = try await FirebreakServer.prepare(configuration) { Console.progress($0) }
        if let token = try await server.bootstrapAdminToken() {
            Console.progress("""
                ───────────────────────────────────────────────────────────────────────────
                First start: an admin token was created. It is shown once; store it now.
                  export FIREBREAK_TOKEN=\(token)
                ───────────────────────────────────────────────────────────────────────────
                """)
        }
        let listener = server.startChangeListener()
        defer { listener.stop(); server.scheduler.stop(); server.autoSnapshots.stop() }
        let host = self.host
        let app = server.application { port in Console.progress("firebreak is serving on http://\(host):\(port)") }
        if let spanExport {
            // The exporter stops after the server (services stop in reverse order), flushing the last spans.
            let group = ServiceGroup(configuration: .init(services: [spanExport, app], gracefulShutdownSignals: [.sigterm, .sigint],
                                                          logger: Logger(label: "firebreak")))
            try await group.run()
        } else {
            try await app.runService()
        }
        await server.collections.retrievalLog.stop()
    }
}
