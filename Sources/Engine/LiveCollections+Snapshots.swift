import Foundation
import HubScan
import Snapshots
import Store

/// A snapshot as the API reports it.
public struct SnapshotSummary: Sendable {
    public let id: String
    public let rootHash: String
    public let status: SnapshotStatus
    public let parent: String?
    public let documents: Int
    public let tenants: [String]
    public let seconds: Double
}

/// What verifying a snapshot found: its files check out (or it throws), and a HubScan of the
/// vectors it would serve either cleared it (`verified_clean`, a rollback target) or did not.
public struct SnapshotVerification: Sendable {
    public let id: String
    public let rootHash: String
    public let status: SnapshotStatus
    public let scanID: Int64
    public let maxZ: Double
    public let threshold: Double
    public let flagged: Int
}

/// What a rollback did.
public struct RollbackOutcome: Sendable {
    public let snapshotID: String
    public let rootHash: String
    public let incidentID: String
    public let tenants: [String]
    /// Documents served by the restored partitions.
    public let documents: Int
    /// Documents ingested after the snapshot, retired by the rollback (kept as evidence).
    public let retired: Int
    /// Request arrival → the restored partitions serve.
    public let seconds: Double
    /// Where the time went: "load" (verify and load the files, off every lock) and
    /// "commit_and_swap" (retire, record and append, then apply: the restored partitions serve).
    public let phases: [String: Double]
}

extension LiveCollection {
    /// The partitions' current indexes, sorted by tenant. The caller holds `writers`, which
    /// every mutation of a graph or BM25 index also holds, so the objects stay still while
    /// they are copied (`frozenCopy`); searches never wait.
    func capturePartitions() -> [SnapshotLayout.Captured] {
        state.reading {
            partitions.keys.sorted().compactMap { tenant in
                partitions[tenant].map { SnapshotLayout.Captured(tenant: tenant, graph: $0.graph, lexical: $0.lexical) }
            }
        }
    }

    /// Live row ids per tenant, from the documents map.
    func liveRowIDs(tenants: [String]) -> [String: Set<Int64>] {
        state.reading {
            var live: [String: Set<Int64>] = Dictionary(uniqueKeysWithValues: tenants.map { ($0, []) })
            for entry in documents.values where live[entry.tenant] != nil { live[entry.tenant]!.insert(entry.rowID) }
            return live
        }
    }

    func isRebuilding(anyOf tenants: [String]) -> Bool {
        state.reading { tenants.contains { partitions[$0]?.rebuilding ?? false } }
    }
}

extension LiveCollections {
    public static let rollbackLatest = "last-clean"

    /// The store's space of a collection's snapshots.
    static func space(collectionID: Int64) -> String { "c\(collectionID)" }

    /// Publishes a snapshot of the collection as it serves now: every tenant's HNSW graph and
    /// BM25 index, hashed, fsynced and renamed into place, then recorded as `published`.
    /// Writers to this collection wait only while its indexes are copied in memory (caught up
    /// to one change-log position); the files are written after they resume. Searches never wait.
    public func snapshot(_ collection: LiveCollection, actor: String) async throws(EngineError) -> SnapshotSummary {
        try await Spans.run("firebreak.snapshot", attributes: ["firebreak.collection": collection.configuration.name]) {
            () async throws(EngineError) -> SnapshotSummary in
            let started = Date()
            let configuration = collection.configuration
            let frozen = try await write(collection) { connection throws(EngineError) in
                let id = Self.newSnapshotID(collection: configuration.id)
                do {
                    let parent = try SnapshotRecords.latestPublishedID(collectionID: configuration.id, on: connection)
                    try SnapshotRecords.create(id: id, collectionID: configuration.id, parentID: parent, builder: self.replica.name,
                                              on: connection)
                    return FrozenSnapshot(id: id, parent: parent, captured: collection.capturePartitions().map(\.frozenCopy),
                                          changeSeq: collection.position.value)
                } catch {
                    throw LiveCollection.mapped(error)
                }
            }
            do {
                return try await publish(frozen, of: configuration, started: started)
            } catch {
                do {
                    try await pool.withConnection { try SnapshotRecords.retire(frozen.id, on: $0) }
                } catch let retireError {
                    // Not silent: the row stays `building` (never served) until this replica's
                    // next start retires it.
                    report("snapshot \(frozen.id) failed and could not be retired now (\(retireError)); the next start retires it")
                }
                throw EngineError(.indexFailed, "snapshot \(frozen.id) was not published: \(error)")
            }
        }
    }

    /// The copied state a snapshot writes out.
    struct FrozenSnapshot: @unchecked Sendable {
        let id: String
        let parent: String?
        let captured: [SnapshotLayout.Captured]
        let changeSeq: Int64
    }

    /// Writes the frozen copy's files (off every lock), records it published and applies retention.
    private func publish(_ frozen: FrozenSnapshot, of configuration: CollectionConfiguration,
                         started: Date) async throws -> SnapshotSummary {
        let captured = frozen.captured
        var manifest = SnapshotManifest(
            id: frozen.id, collection: configuration.name, parent: frozen.parent,
            documents: captured.reduce(0) { $0 + $1.lexical.liveCount }, dimension: configuration.dimension,
            metric: configuration.metric.rawValue,
            index: .init(m: configuration.m, efConstruction: configuration.efConstruction, efSearch: configuration.efSearch),
            analyzer: captured.first.map { "\($0.lexical.analyzer.name)@\(type(of: $0.lexical.analyzer).version)" })
        manifest.changeSeq = frozen.changeSeq
        let store = snapshots, space = Self.space(collectionID: configuration.id)
        let published = try await BlockingWork.run { [manifest] in
            try store.publish(manifest, in: space) { directory in _ = try SnapshotLayout.write(captured, into: directory) }
        }
        let unused = try await pool.withConnection { connection in
            try SnapshotRecords.markPublished(frozen.id, rootHash: published.rootHash, manifestJSON: published.canonicalJSON,
                                              changeSeq: frozen.changeSeq, on: connection)
            return self.retireOldSnapshots(of: configuration.id, on: connection)
        }
        await removeFromStore(unused, space: space)
        return SnapshotSummary(id: frozen.id, rootHash: published.rootHash, status: .published, parent: frozen.parent,
                               documents: published.documents, tenants: captured.map(\.tenant),
                               seconds: Date().timeIntervalSince(started))
    }

    /// Snapshots kept per collection; older ones are retired and their folders removed, except
    /// a verified-clean one an open incident refers to.
    public static let snapshotsKept = 10

    /// Leftovers of an unfinished publish younger than this may be a publish still running on
    /// another replica, and are kept (seconds).
    public static let incompleteSecondsMin = 3_600.0

    /// What retention no longer needs in the store: retired snapshots and rebuilt graphs.
    struct Unused: Sendable {
        var snapshotIDs: [String] = []
        var graphFiles: [String] = []
    }

    /// Retention after a publish, in the record. Best effort: a failure leaves extra snapshots,
    /// never fewer. Returns what to delete from the store once the connection is released.
    private func retireOldSnapshots(of collectionID: Int64, on connection: Connection) -> Unused {
        guard let retired = try? SnapshotRecords.applyRetention(collectionID: collectionID, keep: Self.snapshotsKept,
                                                                 sparingLastClean: true, on: connection) else { return Unused() }
        return Unused(snapshotIDs: retired, graphFiles: truncateChangeLog(on: connection))
    }

    /// Deletes change-log rows nobody may need any more (below the oldest retained snapshot's
    /// position and every live replica's). Best effort, like retention. Returns the rebuilt
    /// graph files the deleted rows named.
    func truncateChangeLog(on connection: Connection) -> [String] {
        guard let from = try? ChangeLog.retainedFrom(liveWithinSeconds: ReplicaRecords.silentSecondsMax, on: connection),
              let removed = try? ChangeLog.truncate(below: from, on: connection), removed.rows > 0 else { return [] }
        report("change log: \(removed.rows) rows below \(from) removed (retention), with \(removed.graphFiles.count) rebuilt graphs")
        return removed.graphFiles
    }

    /// Deletes retired snapshots and unused graph files from the store (off the pool; best
    /// effort: what fails to delete is reported and stays, never the other way round).
    func removeFromStore(_ unused: Unused, space: String) async {
        let store = snapshots, report = self.report
        _ = try? await BlockingWork.run {
            do {
                let removed = try store.removeIncomplete(in: space, olderThanSeconds: Self.incompleteSecondsMin)
                if !removed.isEmpty { report("removed from \(store.location)/\(space), left by publishes that never finished: \(removed.joined(separator: ", "))") }
            } catch {
                report("leftovers of unfinished publishes in \(store.location)/\(space) not removed: \(error)")
            }
            for id in unused.snapshotIDs {
                do { try store.remove(id, in: space) } catch { report("retired snapshot \(id) not removed from \(store.location): \(error)") }
            }
            for file in unused.graphFiles {
                do { try store.removeFile(file) } catch { report("rebuilt graph \(file) not removed from \(store.location): \(error)") }
            }
        }
    }

    /// `s<collection id>-<UTC yyyyMMdd-HHmmss>-<8 hex>`: sortable, unique, and a valid folder name.
    static func newSnapshotID(collection: Int64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return "s\(collection)-\(formatter.string(from: Date()))-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    public func snapshots(of collection: LiveCollection) async throws(EngineError) -> [SnapshotRecords.Listed] {
        do {
            return try await pool.withConnection { try SnapshotRecords.list(collectionID: collection.configuration.id, on: $0) }
        } catch {
            throw LiveCollection.mapped(error)
        }
    }

    /// The stored record of `id` (or of the newest verified-clean snapshot for "last-clean"),
    /// refused unless it belongs to `collection` and may serve.
    func servableSnapshot(_ id: String, of collection: LiveCollection) async throws(EngineError) -> SnapshotRecords.Record {
        let record: SnapshotRecords.Record?
        do {
            record = try await pool.withConnection { connection -> SnapshotRecords.Record? in
                if id == Self.rollbackLatest { return try SnapshotRecords.lastClean(collectionID: collection.configuration.id, on: connection) }
                guard SnapshotFolder.isValidID(id) else { return nil }
                return try? SnapshotRecords.load(id, on: connection)
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
        guard let record else {
            if id == Self.rollbackLatest {
                throw EngineError(.noCleanSnapshot, "collection \(collection.configuration.name) has no verified-clean snapshot; verify one first")
            }
            throw EngineError(.unknownSnapshot, "no snapshot \(id.prefix(128)) in \(collection.configuration.name)")
        }
        guard record.collectionID == collection.configuration.id else {
            throw EngineError(.unknownSnapshot, "no snapshot \(id.prefix(128)) in \(collection.configuration.name)")
        }
        guard record.status == .published || record.status == .verifiedClean else {
            throw EngineError(.snapshotInvalid, "snapshot \(record.id) is \(record.status.rawValue); only published snapshots serve")
        }
        return record
    }

    /// Loads the partitions of `tenants` (all when nil) of a recorded snapshot, after the store
    /// checked every file against the manifest and this checks the manifest's root hash against
    /// the record: a tampered or damaged snapshot is refused, naming the file. Blocks (file or
    /// network I/O): run it off the concurrency pool.
    func loadSnapshot(_ record: SnapshotRecords.Record, of collection: LiveCollection,
                      tenants: Set<String>?) throws(EngineError) -> [SnapshotLayout.Captured] {
        try loadSnapshot(record, collectionID: collection.configuration.id, tenants: tenants)
    }

    func loadSnapshot(_ record: SnapshotRecords.Record, collectionID: Int64,
                      tenants: Set<String>?) throws(EngineError) -> [SnapshotLayout.Captured] {
        let checkout: SnapshotCheckout
        do { checkout = try snapshots.checkout(record.id, in: Self.space(collectionID: collectionID)) } catch {
            throw EngineError(.snapshotInvalid, "snapshot \(record.id) does not verify in \(snapshots.location): \(error)")
        }
        defer { checkout.release() }
        guard checkout.manifest?.rootHash == record.rootHash else {
            throw EngineError(.snapshotInvalid, "snapshot \(record.id): the stored root hash differs from the recorded one")
        }
        return try SnapshotLayout.load(folder: checkout.path, tenants: tenants)
    }
}
