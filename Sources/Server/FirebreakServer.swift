import Engine
import Foundation
import Hummingbird
import Logging
import Snapshots
import Store

/// The service, assembled: a migrated database, every collection loaded, the quarantine
/// listener, and the Hummingbird application with its routes and middleware.
public struct FirebreakServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 7420
        public var conninfo: String
        public var poolSize = 8
        /// How long a request waits for a free database connection before it is 503 `busy`.
        public var poolWaitSeconds = ConnectionPool.waitSecondsDefault
        public var limits = ServerLimits()
        /// Where collection snapshots are published: a folder (created when missing; `serve`
        /// puts it beside the embedded PostgreSQL's data, `<data-dir>/snapshots`) or an S3 bucket.
        public var snapshotStore: any SnapshotStore
        /// This replica's name in the change log's `replicas` table (unique per serving process).
        public var replicaID = LiveCollections.defaultReplicaName
        /// How long a read that demands `min_seq` waits for this replica to apply it before
        /// answering 503 `replica_behind`.
        public var consistencyWaitMs = 1_000
        /// The service's own snapshots (`AutoSnapshots`): after this many changes, or this many
        /// seconds with at least one change.
        public var snapshotEveryChanges = AutoSnapshots.everyChangesDefault
        public var snapshotEverySeconds = AutoSnapshots.everySecondsDefault
        /// The process bootstrapped a tracer that exports (`firebreak serve` with
        /// OTEL_EXPORTER_OTLP_ENDPOINT): every request then runs under a server span.
        public var exportsSpans = false
        /// The instance's Ed25519 key for signed incident exports (`IncidentSigningKey`; `serve`
        /// loads `--signing-key`). Without one, `GET /v1/incidents/{id}/export` is 503
        /// `signing_key_unavailable`.
        public var signingKey: IncidentSigningKey?

        public init(conninfo: String, snapshotDirectory: String) {
            self.init(conninfo: conninfo, snapshotStore: FolderSnapshotStore(root: snapshotDirectory))
        }

        public init(conninfo: String, snapshotStore: any SnapshotStore) {
            self.conninfo = conninfo
            self.snapshotStore = snapshotStore
        }
    }

    public let configuration: Configuration
    public let collections: LiveCollections
    public let scheduler: ScanScheduler
    public let autoSnapshots: AutoSnapshots
    let pool: ConnectionPool
    let readiness = Readiness()

    /// Migrates the database and loads every collection.
    public static func prepare(_ configuration: Configuration,
                               progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> FirebreakServer {
        // Migrations run as the login (the schema owner); the service's own connections
        // then run as firebreak_service, which cannot edit the timeline or the schema.
        let owner = ConnectionPool(conninfo: configuration.conninfo, size: 1)
        defer { owner.close() }
        let applied = try await owner.withConnection { try Migrator.migrate($0) }
        let pool = ConnectionPool(conninfo: configuration.conninfo, size: configuration.poolSize,
                                  waitSeconds: configuration.poolWaitSeconds, sessionRole: DatabaseRoles.service)
        if !applied.isEmpty { progress("applied migrations: \(applied.map { "\($0.version)_\($0.name)" }.joined(separator: ", "))") }
        if let folder = configuration.snapshotStore as? FolderSnapshotStore {
            do {
                try FileManager.default.createDirectory(atPath: folder.root, withIntermediateDirectories: true)
            } catch {
                throw EngineError(.invalidInput, "cannot create the snapshot directory \(folder.root): \(error.localizedDescription)")
            }
        }
        guard CollectionConfiguration.isValidName(configuration.replicaID) else {
            throw EngineError(.invalidInput, "--replica-id must be 1-63 letters, digits, '_', '.' or '-'")
        }
        let collections = try await LiveCollections.open(pool: pool, snapshots: configuration.snapshotStore,
                                                         replica: configuration.replicaID, progress: progress)
        let scheduler = ScanScheduler(collections: collections, report: progress)
        try await scheduler.start()
        let autoSnapshots = AutoSnapshots(collections: collections, everyChanges: configuration.snapshotEveryChanges,
                                          everySeconds: configuration.snapshotEverySeconds)
        autoSnapshots.start()
        let server = FirebreakServer(configuration: configuration, collections: collections, scheduler: scheduler,
                                     autoSnapshots: autoSnapshots, pool: pool)
        server.readiness.markLoaded()
        return server
    }

    /// Creates the first admin token when none exists: `FIREBREAK_ADMIN_TOKEN` if set,
    /// otherwise a random one. Returns the token when it was created now.
    public func bootstrapAdminToken(from environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> String? {
        try await pool.withConnection { connection -> String? in
            if let given = environment["FIREBREAK_ADMIN_TOKEN"], !given.isEmpty {
                if try TokenRecords.lookup(digest: TokenRecords.digest(given), on: connection) == nil {
                    try TokenRecords.insert(given, role: "admin", tenant: nil, on: connection)
                }
                return nil
            }
            guard try !TokenRecords.hasAdmin(on: connection) else { return nil }
            let token = TokenRecords.generate()
            try TokenRecords.insert(token, role: "admin", tenant: nil, on: connection)
            return token
        }
    }

    /// The router with every route and middleware.
    public func router() -> Router<APIContext> {
        let api = API(collections: collections, pool: pool, limits: configuration.limits.clampedToEngine, metrics: ServiceMetrics.shared,
                      scheduler: scheduler,
                      consistencyWaitMs: configuration.consistencyWaitMs, signingKey: configuration.signingKey)
        let router = Router(context: APIContext.self)
        router.add(middleware: ReplicaHeadersMiddleware(replica: collections.replica))
        if configuration.exportsSpans { router.add(middleware: TracingMiddleware()) }
        router.add(middleware: TraceMiddleware())
        // Metrics outside the problem middleware: they record the status the client got (a
        // refused search is its 400, not the 500 an untyped error would count as).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware(limits: configuration.limits, metrics: api.metrics, inFlight: InFlightCounter()))
        let tokens = TokenCache(pool: pool)
        router.add(middleware: AuthMiddleware(tokens: tokens))
        api.addCollectionRoutes(to: router)
        api.addDocumentRoutes(to: router)
        api.addSearchRoutes(to: router)
        api.addQuarantineRoutes(to: router)
        api.addIncidentRoutes(to: router)
        api.addContainmentRoutes(to: router)
        api.addSnapshotRoutes(to: router)
        api.addGoldenRoutes(to: router)
        api.addOperationRoutes(to: router, readiness: readiness)
        Console(api: api, sessions: ConsoleSessions(pool: api.pool), tokens: tokens).addRoutes(to: router)
        return router
    }

    /// The Hummingbird application; `onRunning` receives the bound port (useful with port 0).
    public func application(logger: Logger = Logger(label: "firebreak"),
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "firebreak"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                    logger: logger)
    }

    /// Applies the change log (every replica's writes, this one's included) until `stop()`.
    public func startChangeListener() -> ChangeListener {
        let listener = ChangeListener(conninfo: configuration.conninfo, collections: collections)
        listener.start()
        return listener
    }
}
