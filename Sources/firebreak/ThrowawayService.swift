import FirebreakAPI
import Foundation
import Server
import Store

/// A Firebreak service in this process on a free loopback port, over a throwaway embedded
/// PostgreSQL (or `databaseURL`; commits are durable only with `durable`), with a fresh admin token: what `bench service` and `drill`
/// run against when no `--url` is given. `stop()` removes everything it created.
struct ThrowawayService {
    let client: APIClient
    /// The server itself, for measurements that bypass HTTP (the engine in-process).
    let server: FirebreakServer
    private let running: RunningServer
    private let embedded: EmbeddedPostgres?
    private let folder: String

    static func start(databaseURL: String?, label: String, durable: Bool = false) async throws -> ThrowawayService {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("firebreak-\(label)-\(getpid())").path
        var embedded: EmbeddedPostgres?
        let conninfo: String
        if let databaseURL { conninfo = databaseURL } else {
            let cluster = try EmbeddedPostgres(dataDirectory: folder, durable: durable)
            Console.progress("starting a throwaway PostgreSQL in \(folder)")
            conninfo = try cluster.start()
            embedded = cluster
        }
        do {
            var configuration = FirebreakServer.Configuration(conninfo: conninfo, snapshotDirectory: folder + "-snapshots")
            configuration.port = 0
            let server = try await FirebreakServer.prepare(configuration)
            let token = TokenRecords.generate()
            _ = try await server.bootstrapAdminToken(from: ["FIREBREAK_ADMIN_TOKEN": token])
            let running = try await server.start()
            return ThrowawayService(client: APIClient(baseURL: running.baseURL, token: token), server: server, running: running,
                                    embedded: embedded, folder: folder)
        } catch {
            try? embedded?.stop()
            Self.remove(folder, embedded: embedded != nil)
            throw error
        }
    }

    func stop() async throws {
        defer {
            try? embedded?.stop()
            Self.remove(folder, embedded: embedded != nil)
        }
        try await running.stop()
    }

    private static func remove(_ folder: String, embedded: Bool) {
        if embedded { try? FileManager.default.removeItem(atPath: folder) }
        try? FileManager.default.removeItem(atPath: folder + "-snapshots")
    }
}
