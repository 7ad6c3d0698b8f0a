import Engine
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Store

/// A server started in this process (tests and the in-process benchmark): it listens on
/// the configured port (0 picks a free one) until `stop()`, which shuts down gracefully.
public final class RunningServer: Sendable {
    public let port: Int
    public let baseURL: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    private let listener: ChangeListener
    private let scheduler: ScanScheduler
    private let autoSnapshots: AutoSnapshots
    private let retrievalLog: RetrievalLog
    private let pool: ConnectionPool

    init(port: Int, host: String, group: ServiceGroup, task: Task<Void, any Error>, listener: ChangeListener,
         scheduler: ScanScheduler, autoSnapshots: AutoSnapshots, retrievalLog: RetrievalLog, pool: ConnectionPool) {
        self.pool = pool
        self.scheduler = scheduler
        self.autoSnapshots = autoSnapshots
        self.retrievalLog = retrievalLog
        self.port = port
        baseURL = "http://\(host):\(port)"
        self.group = group
        self.task = task
        self.listener = listener
    }

    public func stop() async throws {
        listener.stop()
        scheduler.stop()
        autoSnapshots.stop()
        await group.triggerGracefulShutdown()
        try await task.value
        await retrievalLog.stop()
        pool.close()  // its connections end with it (the database's max_connections is shared)
    }
}

extension FirebreakServer {
    public static let startSecondsMax = 30

    /// Starts listening and returns once the port is bound.
    public func start(logger: Logger = Logger(label: "firebreak")) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = application(logger: logger) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        let port = await withTaskGroup(of: Int?.self) { waiters in
            waiters.addTask { await ports.first { _ in true } }
            waiters.addTask {
                try? await Task.sleep(for: .seconds(Self.startSecondsMax))
                return nil
            }
            let first = await waiters.next() ?? nil
            waiters.cancelAll()
            return first ?? nil
        }
        guard let port else {
            task.cancel()
            throw Problem(.serviceUnavailable, .startFailed, "the server did not start listening within \(Self.startSecondsMax) s")
        }
        return RunningServer(port: port, host: configuration.host, group: group, task: task,
                             listener: startChangeListener(), scheduler: scheduler, autoSnapshots: autoSnapshots,
                             retrievalLog: collections.retrievalLog, pool: pool)
    }
}
