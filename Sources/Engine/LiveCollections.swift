import Foundation
import Store
import VectorMath

/// Every collection's live state, by name, and the asynchronous entry points the server
/// calls. Each write runs on a Store connection's own thread, holding the collection's
/// `writers` mutex for its whole transaction-then-memory sequence.
public final class LiveCollections: @unchecked Sendable {
    public static let collectionsMax = 1_000
    public let pool: ConnectionPool
    /// Where snapshots are published: one folder per collection (`c<id>`), one per snapshot in it.
    public let snapshotRoot: String
    private let lock = Mutex()
    private var byName: [String: LiveCollection] = [:]
    private var byID: [Int64: LiveCollection] = [:]
    let cancellations = CancellationRequests()
    /// What every search served, for blast radius; flushed to PostgreSQL in batches.
    public let retrievalLog: RetrievalLog

    init(pool: ConnectionPool, snapshotRoot: String) {
        self.pool = pool
        self.snapshotRoot = snapshotRoot
        retrievalLog = RetrievalLog(pool: pool)
    }

    /// Loads every stored collection (its documents, quarantine and flags) into memory.
    public static func open(pool: ConnectionPool, snapshotRoot: String,
                            progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> LiveCollections {
        let registry = LiveCollections(pool: pool, snapshotRoot: snapshotRoot)
        let interrupted = try await pool.withConnection { try JobRecords.failInterrupted(on: $0) }
        if !interrupted.isEmpty { progress("jobs interrupted by the last stop, marked failed: \(interrupted.map(String.init).joined(separator: ", "))") }
        let records = try await pool.withConnection { try CollectionRecords.all(on: $0) }
        for record in records {
            let configuration = try Self.configuration(of: record)
            let started = Date()
            let collection = try await pool.withConnection { try LiveCollection.load(configuration, retrievalLog: registry.retrievalLog, on: $0) }
            progress("loaded collection \(record.name): \(collection.status().documents) documents in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            registry.insert(collection)
        }
        registry.retrievalLog.start()
        return registry
    }

    private static func configuration(of record: CollectionRecord) throws(EngineError) -> CollectionConfiguration {
        guard let metric = Metric(name: record.metric) else {
            throw EngineError(.storeFailed, "collection \(record.name) has an unknown metric \(record.metric)")
        }
        return CollectionConfiguration(id: record.id, name: record.name, dimension: record.dimension, metric: metric,
                                       m: record.m, efConstruction: record.efConstruction, efSearch: record.efSearch)
    }

    private func insert(_ collection: LiveCollection) {
        lock.locked {
            byName[collection.configuration.name] = collection
            byID[collection.configuration.id] = collection
        }
    }

    public var all: [LiveCollection] {
        lock.locked { byName.keys.sorted().compactMap { byName[$0] } }
    }

    public func named(_ name: String) throws(EngineError) -> LiveCollection {
        guard let collection = lock.locked({ byName[name] }) else {
            throw EngineError(.unknownCollection, "no collection \"\(name.prefix(128))\"")
        }
        return collection
    }

    /// Creates a collection: validated, stored, then served (empty).
    public func create(_ configuration: CollectionConfiguration) async throws(EngineError) -> LiveCollection {
        try configuration.validate()
        if lock.locked({ byName[configuration.name] != nil }) {
            throw EngineError(.duplicateCollection, "collection \(configuration.name) already exists")
        }
        guard lock.locked({ byName.count }) < Self.collectionsMax else {
            throw EngineError(.invalidInput, "this service holds at most \(Self.collectionsMax) collections")
        }
        let record = CollectionRecord(name: configuration.name, dimension: configuration.dimension,
                                      metric: configuration.metric.rawValue, m: configuration.m,
                                      efConstruction: configuration.efConstruction, efSearch: configuration.efSearch)
        let stored: CollectionRecord
        do {
            stored = try await pool.withConnection { try CollectionRecords.create(record, on: $0) }
        } catch let error as StoreError where error.code == .constraintViolation {
            throw EngineError(.duplicateCollection, "collection \(configuration.name) already exists")
        } catch {
            throw LiveCollection.mapped(error)
        }
        var served = configuration
        served.id = stored.id
        let collection = LiveCollection(configuration: served, retrievalLog: retrievalLog)
        insert(collection)
        return collection
    }

    /// Runs a writer on a connection's thread, under the collection's writer mutex.
    func write<T: Sendable>(_ collection: LiveCollection,
                            _ body: @escaping @Sendable (Connection) throws(EngineError) -> T) async throws(EngineError) -> T {
        do {
            return try await pool.withConnection { connection in
                try collection.writers.locked { try body(connection) }
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
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
        let outcome = try await write(collection) { connection throws(EngineError) in
            try collection.quarantine(externalIDs: externalIDs, scope: scope, reason: reason, incident: incident,
                                      scores: scores, actor: actor, activated: activated, on: connection)
        }
        if !outcome.changed.isEmpty { recordBlastRadius(incidentID: outcome.incidentID, actor: actor) }
        return outcome
    }

    public func release(_ externalIDs: [String], in collection: LiveCollection, scope: String?, reason: String,
                        incident: IncidentReference, actor: String) async throws(EngineError) -> QuarantineOutcome {
        try await write(collection) { connection throws(EngineError) in
            try collection.release(externalIDs: externalIDs, scope: scope, reason: reason, incident: incident,
                                   actor: actor, on: connection)
        }
    }

    public func setFlag(_ flag: FeatureFlag, enabled: Bool, tenant: String?, in collection: LiveCollection,
                        incident: IncidentReference, actor: String) async throws(EngineError) -> String {
        try await write(collection) { connection throws(EngineError) in
            try collection.setFlag(flag, enabled: enabled, tenant: tenant, incident: incident, actor: actor, on: connection)
        }
    }

    /// Applies a quarantine NOTIFY payload from any replica (this one's own are no-ops).
    public func apply(notification payload: String) {
        struct Change: Decodable { let action: String; let collection_id: Int64; let documents: [Int64] }
        guard let change = try? JSONDecoder().decode(Change.self, from: Data(payload.utf8)),
              let collection = lock.locked({ byID[change.collection_id] }) else { return }
        collection.applyRemote(quarantine: change.action == "quarantine", rowIDs: change.documents, incidentID: "remote")
    }
}
