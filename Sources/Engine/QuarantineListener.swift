import Foundation
import Store

/// Listens for quarantine changes made by any replica (PostgreSQL NOTIFY on
/// `firebreak_quarantine`) and applies them to this replica's filters. After a lost
/// connection it re-reads the active quarantine of every collection, so a change missed
/// while disconnected is still applied.
public final class QuarantineListener: @unchecked Sendable {
    public static let pollSeconds = 0.5
    public static let reconnectSeconds = 1.0

    private let conninfo: String
    private let collections: LiveCollections
    private let stopped = Mutex()
    private var stopRequested = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    public init(conninfo: String, collections: LiveCollections) {
        self.conninfo = conninfo
        self.collections = collections
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "firebreak-quarantine-listener"
        self.thread = thread
        thread.start()
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
        var firstConnection = true
        while !shouldStop {
            do {
                let connection = try Connection(conninfo)
                try connection.listen("firebreak_quarantine")
                if !firstConnection { try resynchronise(on: connection) }
                firstConnection = false
                while !shouldStop {
                    if let notification = try connection.nextNotification(timeout: Self.pollSeconds) {
                        collections.apply(notification: notification.payload)
                    }
                }
            } catch {
                firstConnection = false
                Thread.sleep(forTimeInterval: Self.reconnectSeconds)
            }
        }
    }

    private func resynchronise(on connection: Connection) throws {
        for collection in collections.all {
            let active = try QuarantineRecords.entries(collectionID: collection.configuration.id, on: connection)
            collection.resynchronise(active: Dictionary(active.map { ($0.documentID, $0.incidentID) }) { first, _ in first })
        }
    }
}

extension LiveCollection {
    /// Makes the withheld set equal to `active` (row id → incident).
    func resynchronise(active: [Int64: String]) {
        state.writing {
            for rowID in quarantined.keys where active[rowID] == nil { applyRelease(rowID: rowID) }
            for (rowID, incident) in active where quarantined[rowID] == nil { applyQuarantine(rowID: rowID, incidentID: incident) }
        }
    }
}
