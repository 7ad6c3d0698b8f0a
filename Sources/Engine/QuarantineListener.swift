import Foundation
import Store

/// Listens for quarantine changes made by any replica (PostgreSQL NOTIFY on
/// `firebreak_quarantine`) and applies them to this replica's filters. Every time LISTEN is
/// (re)established it re-reads the active quarantine of every collection, so a change made
/// between loading and listening, or while disconnected, is still applied.
public final class QuarantineListener: @unchecked Sendable {
    public static let pollSeconds = 0.5
    public static let reconnectSeconds = 1.0

    private let conninfo: String
    private let collections: LiveCollections
    private let stopped = Mutex()
    private var stopRequested = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let listening = DispatchSemaphore(value: 0)
    public static let listenSecondsMax = 10.0

    public init(conninfo: String, collections: LiveCollections) {
        self.conninfo = conninfo
        self.collections = collections
    }

    /// Starts the thread and waits (at most `listenSecondsMax`) until it listens and has
    /// caught up, so that a replica reporting ready also hears every later change.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "firebreak-quarantine-listener"
        self.thread = thread
        thread.start()
        _ = listening.wait(timeout: .now() + Self.listenSecondsMax)
    }

    /// Asks the thread to stop and waits for it (at most a few poll intervals), so that its
    /// connection is closed before, say, the database is shut down.
    public func stop() {
        stopped.locked { stopRequested = true }
        guard thread != nil else { return }
        _ = finished.wait(timeout: .now() + 4 * Self.pollSeconds + Self.reconnectSeconds)
    }

    private var shouldStop: Bool { stopped.locked { stopRequested } }

    private func run() {
        defer { finished.signal() }
        var signalled = false
        while !shouldStop {
            do {
                let connection = try Connection(conninfo)
                try connection.listen("firebreak_quarantine")
                try resynchronise(on: connection)
                if !signalled { listening.signal(); signalled = true }
                while !shouldStop {
                    if let notification = try connection.nextNotification(timeout: Self.pollSeconds) {
                        collections.apply(notification: notification.payload)
                    }
                }
            } catch {
                Thread.sleep(forTimeInterval: Self.reconnectSeconds)
            }
        }
    }

    private func resynchronise(on connection: Connection) throws {
        for collection in collections.all {
            try collection.resynchronise { try QuarantineRecords.entries(collectionID: collection.configuration.id, on: connection) }
        }
    }
}

extension LiveCollection {
    /// Makes the withheld set equal to the active quarantine that `read` returns. Reads and
    /// applies under `writers`, so no quarantine or release of this replica can commit in
    /// between, nor be seen half-done (filters cleared, not yet committed).
    func resynchronise(_ read: () throws -> [QuarantineEntry]) throws {
        try writers.locked {
            let active = Dictionary(try read().map { ($0.documentID, $0.incidentID) }) { first, _ in first }
            state.writing {
                for rowID in quarantined.keys where active[rowID] == nil { applyRelease(rowID: rowID) }
                for (rowID, incident) in active where quarantined[rowID] == nil { applyQuarantine(rowID: rowID, incidentID: incident) }
            }
        }
    }
}
