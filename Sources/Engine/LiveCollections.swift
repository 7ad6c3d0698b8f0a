import Foundation
import Snapshots
import Store
import VectorMath

/// Every collection's live state, by name, and the asynchronous entry points the server
/// calls. Each write runs on a Store connection's own thread, holding the collection's
/// `writers` mutex for its whole transaction-then-memory sequence.
public final class LiveCollections: @unchecked Sendable {
    public static let collectionsMax = 1_000
    public let pool: ConnectionPool
    /// Where snapshots are published (a folder or an S3 bucket): one space per collection
    /// (`c<id>`), one snapshot per id in it, and the rebuilt graphs replicas hand each other.
    public let snapshots: any SnapshotStore
    let lock = Mutex()
    private var byName: [String: LiveCollection] = [:]
    private(set) var byID: [Int64: LiveCollection] = [:]
    /// Collections start-up could not load, by name: not served, their changes skipped.
    var unloaded: [String: UnloadedCollection] = [:]
    /// This replica's name and place in the change log.
    public let replica: ReplicaPosition
    /// Where the engine says what it did on its own (start-up, fallbacks).
    let report: @Sendable (String) -> Void
    let cancellations = CancellationRequests()
    /// What every search served, for blast radius; flushed to PostgreSQL in batches.
    public let retrievalLog: RetrievalLog

    init(pool: ConnectionPool, snapshots: any SnapshotStore, replica: String, report: @escaping @Sendable (String) -> Void) {
        self.pool = pool
        self.snapshots = snapshots
        self.replica = ReplicaPosition(name: replica)
        self.report = report
        retrievalLog = RetrievalLog(pool: pool)
    }

    public static let defaultReplicaName = "replica-1"

    /// `open` over a snapshot folder.
    public static func open(pool: ConnectionPool, snapshotRoot: String, replica: String = defaultReplicaName,
                            progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> LiveCollections {
        try await open(pool: pool, snapshots: FolderSnapshotStore(root: snapshotRoot), replica: replica, progress: progress)
    }

    /// Loads every stored collection into memory, each from its newest verified snapshot when
    /// one is usable (else from PostgreSQL), at the change-log position it reflects.
    public static func open(pool: ConnectionPool, snapshots: any SnapshotStore, replica: String = defaultReplicaName,
                            progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> LiveCollections {
        let registry = LiveCollections(pool: pool, snapshots: snapshots, replica: replica, report: progress)
        let interrupted = try await pool.withConnection { try JobRecords.failInterrupted(owner: replica, on: $0) }
        if !interrupted.isEmpty { progress("jobs interrupted by the last stop, marked failed: \(interrupted.map(String.init).joined(separator: ", "))") }
        let unfinished = try await pool.withConnection { try SnapshotRecords.retireInterrupted(builder: replica, on: $0) }
        if !unfinished.isEmpty { progress("snapshots interrupted by the last stop, retired: \(unfinished.joined(separator: ", "))") }
        let (records, head) = try await pool.withConnection { (try CollectionRecords.all(on: $0), try ChangeLog.head(on: $0)) }
        // Rows after `head` are read by the change listener; a collection loaded later skips
        // the ones its load already reflects (its own position).
        registry.replica.advance(to: head)
        for record in records {
            let started = Date()
            do {
                let (collection, source) = try await registry.boot(try Self.configuration(of: record))
                progress("loaded collection \(record.name) \(source): \(collection.status().documents) documents at change \(collection.position.value) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
                _ = registry.insertIfAbsent(collection)
            } catch let error as StoreError where Self.stopsStartUp(error) {
                throw error
            } catch {
                // One collection that cannot be loaded (a row the engine refuses, an unreadable
                // snapshot with no PostgreSQL fallback) does not take the others down with it.
                let reason = String("\(error)".prefix(Self.unloadedReasonCharactersMax))
                registry.lock.locked { registry.unloaded[record.name] = UnloadedCollection(id: record.id, name: record.name, reason: reason) }
                progress("collection \(record.name) could not be loaded and is not served (503 collection_unavailable until a restart loads it): \(reason)")
            }
        }
        try await registry.resumeRebuildState(interrupted: interrupted)
        registry.retrievalLog.start()
        return registry
    }

    static func configuration(of record: CollectionRecord) throws(EngineError) -> CollectionConfiguration {
        guard let metric = Metric(name: record.metric) else {
            throw EngineError(.storeFailed, "collection \(record.name) has an unknown metric \(record.metric)")
        }
        return CollectionConfiguration(id: record.id, name: record.name, dimension: record.dimension, metric: metric,
                                       m: record.m, efConstruction: record.efConstruction, efSearch: record.efSearch)
    }

    /// Registers a collection unless one with its id is already registered; returns the registered one.
    func insertIfAbsent(_ collection: LiveCollection) -> LiveCollection {
        lock.locked {
            if let existing = byID[collection.configuration.id] { return existing }
            byName[collection.configuration.name] = collection
            byID[collection.configuration.id] = collection
            return collection
        }
    }

    public var all: [LiveCollection] {
        lock.locked { byName.keys.sorted().compactMap { byName[$0] } }
    }

    public func named(_ name: String) throws(EngineError) -> LiveCollection {
        let (collection, unloaded) = lock.locked { (byName[name], self.unloaded[name]) }
        if let unloaded {
            throw EngineError(.collectionUnavailable, "collection \(unloaded.name) could not be loaded when this replica started: \(unloaded.reason)")
        }
        guard let collection else {
            throw EngineError(.unknownCollection, "no collection \"\(name.prefix(128))\"")
        }
        return collection
    }

    /// The collections this replica could not load at start-up, by name, and why.
    public var unloadedCollections: [UnloadedCollection] {
        lock.locked { unloaded.values.sorted { $0.name < $1.name } }
    }

    /// The characters of a load failure kept as its reason.
    static let unloadedReasonCharactersMax = 1_000

    /// Failures of the database itself stop start-up (the replica would otherwise come up
    /// with every collection unloaded); anything else fails only the collection it concerns.
    static func stopsStartUp(_ error: StoreError) -> Bool {
        [.connectionFailed, .poolExhausted, .timeout, .commitUnknown].contains(error.code)
    }

    /// Creates a collection: validated, stored, then served (empty).
    public func create(_ configuration: CollectionConfiguration) async throws(EngineError) -> LiveCollection {
        try configuration.validate()
        if lock.locked({ byName[configuration.name] != nil || unloaded[configuration.name] != nil }) {
            throw EngineError(.duplicateCollection, "collection \(configuration.name) already exists")
        }
        guard lock.locked({ byName.count }) < Self.collectionsMax else {
            throw EngineError(.invalidInput, "this service holds at most \(Self.collectionsMax) collections")
        }
        let record = CollectionRecord(name: configuration.name, dimension: configuration.dimension,
                                      metric: configuration.metric.rawValue, m: configuration.m,
                                      efConstruction: configuration.efConstruction, efSearch: configuration.efSearch)
        let stored: CollectionRecord, seq: Int64
        do {
            (stored, seq) = try await pool.withConnection { [replica] connection in
                try connection.transaction { c in
                    let stored = try CollectionRecords.create(record, on: c)
                    let seq = try ChangeLog.append(.collectionCreated(name: stored.name), collectionID: stored.id,
                                                   origin: replica.name, on: c)
                    return (stored, seq)
                }
            }
        } catch let error as StoreError where error.code == .constraintViolation {
            throw EngineError(.duplicateCollection, "collection \(configuration.name) already exists")
        } catch {
            throw LiveCollection.mapped(error)
        }
        var served = configuration
        served.id = stored.id
        let collection = LiveCollection(configuration: served, retrievalLog: retrievalLog, origin: replica.name)
        collection.position.advance(to: seq)
        WriteReceipt.current?.record(seq)
        return insertIfAbsent(collection)
    }

    public func ingest(_ batch: [NewDocument], into collection: LiveCollection) async throws(EngineError) -> IngestOutcome {
        try await write(collection) { connection throws(EngineError) in try collection.ingest(batch, on: connection) }
    }

    public func delete(externalID: String, scope: String?, from collection: LiveCollection) async throws(EngineError) {
        try await write(collection) { connection throws(EngineError) in
            try collection.delete(externalID: externalID, scope: scope, on: connection)
        }
    }

    public func quarantine(_ externalIDs: [String], in collection: LiveCollection, scope: String?, reason: String,
                           incident: IncidentReference, scores: [String: Double] = [:], actor: String,
                           activated: @escaping @Sendable () -> Void = {}) async throws(EngineError) -> QuarantineOutcome {
        try await Spans.run("firebreak.quarantine", attributes: ["firebreak.collection": collection.configuration.name]) {
            () async throws(EngineError) -> QuarantineOutcome in
            let named = NamedDocuments()
            let outcome = try await write(collection, before: { () throws(EngineError) in
                let (entries, fresh) = try collection.withholdFirst(externalIDs, scope: scope, reason: reason)
                named.set(entries)
                activated()
                return { collection.readmitPending(fresh) }
            }) { connection throws(EngineError) in
                try collection.recordQuarantine(named.entries, scope: scope, reason: reason, incident: incident, scores: scores,
                                                actor: actor, on: connection)
            }
            if !outcome.changed.isEmpty { recordBlastRadius(incidentID: outcome.incidentID, actor: actor) }
            return outcome
        }
    }

    public func release(_ externalIDs: [String], in collection: LiveCollection, scope: String?, reason: String,
                        incident: IncidentReference, actor: String) async throws(EngineError) -> QuarantineOutcome {
        try await Spans.run("firebreak.release", attributes: ["firebreak.collection": collection.configuration.name]) {
            () async throws(EngineError) -> QuarantineOutcome in
            try await write(collection) { connection throws(EngineError) in
                try collection.release(externalIDs: externalIDs, scope: scope, reason: reason, incident: incident,
                                       actor: actor, on: connection)
            }
        }
    }

    public func setFlag(_ flag: FeatureFlag, enabled: Bool, tenant: String?, in collection: LiveCollection,
                        incident: IncidentReference, actor: String) async throws(EngineError) -> String {
        try await Spans.run("firebreak.flag", attributes: ["firebreak.collection": collection.configuration.name, "firebreak.flag": flag.rawValue]) {
            () async throws(EngineError) -> String in
            let scope = try collection.validateFlag(flag, tenant: tenant)
            return try await write(collection, before: { collection.restrictFirst(flag, enabled: enabled, scope: scope) }) {
                connection throws(EngineError) in
                try collection.recordFlag(flag, enabled: enabled, scope: scope, incident: incident, actor: actor, on: connection)
            }
        }
    }

}

/// The documents a quarantine named, handed from its first half (before the transaction) to its second.
private final class NamedDocuments: @unchecked Sendable {
    private let lock = Mutex()
    private var held: [DocumentEntry] = []
    var entries: [DocumentEntry] { lock.locked { held } }
    func set(_ entries: [DocumentEntry]) { lock.locked { held = entries } }
}

/// A collection start-up could not load: it is not served, and the reason is said.
public struct UnloadedCollection: Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let reason: String
}
