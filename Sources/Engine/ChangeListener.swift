import Foundation
import Store

/// Keeps this replica applying the change log: it LISTENs on `firebreak_changes` (the
/// wake-up) and reads the log after every notification and at least every `pollSeconds`, so
/// a lost notification delays a change but never loses it. After every read that applied
/// rows, and at least every `heartbeatSeconds`, it records the replica's applied position
/// (and its fail-stop reason, if any) in `replicas`; each second it also fails jobs whose
/// own heartbeat stopped (`JobRecords.failOrphaned`).
public final class ChangeListener: @unchecked Sendable {
    public static let pollSeconds = 0.5
    public static let heartbeatSeconds = 1.0
    public static let reconnectSeconds = 1.0
    /// How long `start` waits for the first read of the log.
    public static let startSecondsMax = 10.0

    private let conninfo: String
    private let collections: LiveCollections
    private let stopped = Mutex()
    private var stopRequested = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let caughtUp = DispatchSemaphore(value: 0)

    public init(conninfo: String, collections: LiveCollections) {
        self.conninfo = conninfo
        self.collections = collections
    }

    /// Starts the thread and waits (at most `startSecondsMax`) until it listens and has read
    /// the log once, so that a replica reporting ready also hears every later change.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "firebreak-change-listener"
        self.thread = thread
        thread.start()
        _ = caughtUp.wait(timeout: .now() + Self.startSecondsMax)
    }

    /// Asks the thread to stop and waits for it, so its connection is closed before, say,
    /// the database is shut down.
    public func stop() {
        stopped.locked { stopRequested = true }
        guard thread != nil else { return }
        _ = finished.wait(timeout: .now() + 4 * Self.pollSeconds + Self.reconnectSeconds)
    }

    private var shouldStop: Bool { stopped.locked { stopRequested } }

    private func run() {
        defer { finished.signal() }
        var signalled = false
        let replica = collections.replica
        while !shouldStop {
            do {
                let connection = try Connection(conninfo)
                try connection.query("SELECT set_config('role', $1, false)", [.text(DatabaseRoles.service)])
                try connection.listen("firebreak_changes")
                var lastBeat = Date.distantPast
                while !shouldStop {
                    var applied = 0
                    do {
                        applied = try collections.pump(on: connection)
                    } catch let error as EngineError {
                        // Fail-stop: the replica's problem names the row; keep heart-beating it.
                        collections.report("replica \(replica.name) stopped applying changes: \(error.message)")
                    }
                    if !signalled { caughtUp.signal(); signalled = true }
                    // A beat after every read that applied rows, so `--wait-all` hears at once.
                    let due = Date().timeIntervalSince(lastBeat) >= Self.heartbeatSeconds
                    if applied > 0 || due {
                        try ReplicaRecords.heartbeat(name: replica.name, appliedSeq: replica.appliedSeq, problem: replica.problem,
                                                     on: connection)
                        lastBeat = Date()
                    }
                    if due {
                        // A job whose own heartbeat stopped (its replica died) is failed by whoever notices.
                        for job in try JobRecords.failOrphaned(on: connection) {
                            collections.report("job \(job) orphaned (its replica stopped heart-beating): marked failed")
                            Task.detached { [collections] in await collections.recordRebuildEnded(orphanedJob: job) }
                        }
                    }
                    // Drain every pending wake-up, then read the log once for all of them.
                    if try connection.nextNotification(timeout: Self.pollSeconds) != nil {
                        while try connection.nextNotification(timeout: 0) != nil {}
                    }
                }
            } catch {
                Thread.sleep(forTimeInterval: Self.reconnectSeconds)
            }
        }
    }
}
