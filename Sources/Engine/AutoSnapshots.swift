import Foundation
import Store

/// The service's own snapshots: a collection is snapshotted once `everyChanges` change-log
/// rows have passed since its last snapshot (by any replica: the newest published one counts),
/// or `everySeconds` have passed with at least one change. A snapshot never blocks searches;
/// writers to the collection wait for it. Two replicas that come due at the same moment may
/// both take one (there is no leader lease).
public final class AutoSnapshots: @unchecked Sendable {
    public static let actor = "auto-snapshot"
    public static let checkSeconds = 5.0
    public static let everyChangesDefault = 10_000
    public static let everySecondsDefault = 3_600

    private let collections: LiveCollections
    private let everyChanges: Int64
    private let everySeconds: Double
    private let lock = Mutex()
    /// Per collection id: the position and time of its last snapshot (or of the start).
    private var last: [Int64: (seq: Int64, at: Date)] = [:]
    private var task: Task<Void, Never>?

    public init(collections: LiveCollections, everyChanges: Int, everySeconds: Int) {
        precondition(everyChanges >= 1 && everySeconds >= 1, "validated by the caller")
        self.collections = collections
        self.everyChanges = Int64(everyChanges)
        self.everySeconds = Double(everySeconds)
    }

    public func start() {
        let now = Date()
        lock.locked { for collection in collections.all { last[collection.configuration.id] = (collection.position.value, now) } }
        task = Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(Self.checkSeconds))
                await tick()
            }
        }
    }

    public func stop() { task?.cancel() }

    /// Snapshots every collection that is due.
    func tick() async {
        for collection in collections.all where collection.status().documents > 0 {
            let id = collection.configuration.id, position = collection.position.value
            // A collection first seen now (created since the start) counts from here.
            var previous: (seq: Int64, at: Date) = lock.locked {
                if last[id] == nil { last[id] = (position, Date()) }
                return last[id]!
            }
            // Another replica's snapshot counts as this one's: n replicas do not take n snapshots.
            if let newest = try? await collections.pool.withConnection({ try SnapshotRecords.newestChangeSeq(collectionID: id, on: $0) }),
               newest > previous.seq {
                previous = (newest, Date())
                lock.locked { last[id] = previous }
            }
            let changes = position - previous.seq
            guard changes >= everyChanges || (changes > 0 && Date().timeIntervalSince(previous.at) >= everySeconds) else { continue }
            do {
                let summary = try await collections.snapshot(collection, actor: Self.actor)
                lock.locked { last[id] = (position, Date()) }
                collections.report("auto-snapshot \(summary.id) of \(collection.configuration.name) at change \(position) (\(changes) changes since the last)")
            } catch {
                collections.report("auto-snapshot of \(collection.configuration.name) failed: \(error)")
                lock.locked { last[id] = (previous.seq, Date()) }  // retried after everySeconds, not every tick
            }
        }
    }
}
