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

    func snapshotFolder(_ collection: LiveCollection) -> SnapshotFolder { snapshotFolder(collectionID: collection.configuration.id) }

    func snapshotFolder(collectionID: Int64) -> SnapshotFolder { SnapshotFolder(root: snapshotRoot + "/c\(collectionID)") }

    /// Publishes a snapshot of the collection as it serves now: every tenant's HNSW graph and
    /// BM25 index, hashed, fsynced and renamed into place, then recorded as `published`.
    /// Writers to this collection wait only while its indexes are copied in memory (caught up
    /// to one change-log position); the files are written after they resume. Searches never wait.
    public func snapshot(_ collection: LiveCollection, actor: String) async throws(EngineError) -> SnapshotSummary {
        let started = Date()
        let folder = snapshotFolder(collection)
        let configuration = collection.configuration
        let frozen = try await write(collection) { connection throws(EngineError) in
            let id = Self.newSnapshotID(collection: configuration.id)
            do {
                try FileManager.default.createDirectory(atPath: folder.root, withIntermediateDirectories: true)
                let parent = try SnapshotRecords.latestPublishedID(collectionID: configuration.id, on: connection)
                try SnapshotRecords.create(id: id, collectionID: configuration.id, parentID: parent, on: connection)
                return FrozenSnapshot(id: id, parent: parent, captured: collection.capturePartitions().map(\.frozenCopy),
                                      changeSeq: collection.position.value)
            } catch {
                throw LiveCollection.mapped(error)
            }
        }
        do {
            return try await publish(frozen, of: configuration, into: folder, started: started)
        } catch {
            _ = try? await pool.withConnection { try SnapshotRecords.retire(frozen.id, on: $0) }
            throw EngineError(.indexFailed, "snapshot \(frozen.id) was not published: \(error)")
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
    private func publish(_ frozen: FrozenSnapshot, of configuration: CollectionConfiguration, into folder: SnapshotFolder,
                         started: Date) async throws -> SnapshotSummary {
        let captured = frozen.captured
        var manifest = SnapshotManifest(
            id: frozen.id, collection: configuration.name, parent: frozen.parent,
            documents: captured.reduce(0) { $0 + $1.lexical.liveCount }, dimension: configuration.dimension,
            metric: configuration.metric.rawValue,
            index: .init(m: configuration.m, efConstruction: configuration.efConstruction, efSearch: configuration.efSearch),
            analyzer: captured.first.map { "\($0.lexical.analyzer.name)@\(type(of: $0.lexical.analyzer).version)" })
        manifest.changeSeq = frozen.changeSeq
        let published = try await BlockingWork.run { [manifest] in
            try folder.publish(manifest) { directory in _ = try SnapshotLayout.write(captured, into: directory) }
        }
        try await pool.withConnection { connection in
            try SnapshotRecords.markPublished(frozen.id, rootHash: published.rootHash, manifestJSON: published.canonicalJSON,
                                              changeSeq: frozen.changeSeq, on: connection)
            self.retireOldSnapshots(of: configuration.id, folder: folder, on: connection)
        }
        return SnapshotSummary(id: frozen.id, rootHash: published.rootHash, status: .published, parent: frozen.parent,
                               documents: published.documents, tenants: captured.map(\.tenant),
                               seconds: Date().timeIntervalSince(started))
    }

    /// Snapshots kept per collection; older ones are retired and their folders removed, except
    /// a verified-clean one an open incident refers to.
    public static let snapshotsKept = 10

    /// Retention after a publish. Best effort: a failure leaves extra snapshots, never fewer.
    private func retireOldSnapshots(of collectionID: Int64, folder: SnapshotFolder, on connection: Connection) {
        guard let retired = try? SnapshotRecords.applyRetention(collectionID: collectionID, keep: Self.snapshotsKept,
                                                                 sparingLastClean: true, on: connection) else { return }
        for id in retired { try? FileManager.default.removeItem(atPath: folder.path(of: id)) }
        truncateChangeLog(on: connection)
    }

    /// Deletes change-log rows nobody may need any more (below the oldest retained snapshot's
    /// position and every live replica's). Best effort, like retention.
    func truncateChangeLog(on connection: Connection) {
        guard let from = try? ChangeLog.retainedFrom(liveWithinSeconds: ReplicaRecords.silentSecondsMax, on: connection),
              let removed = try? ChangeLog.truncate(below: from, on: connection), removed.rows > 0 else { return }
        for file in removed.graphFiles { try? FileManager.default.removeItem(atPath: snapshotRoot + "/" + file) }
        report("change log: \(removed.rows) rows below \(from) removed (retention), with \(removed.graphFiles.count) rebuilt graphs")
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

    /// Checks the files against the manifest and the stored root hash (a tampered or damaged
    /// snapshot is refused, naming the file).
    func verifiedFolder(_ record: SnapshotRecords.Record, of collection: LiveCollection) throws(EngineError) -> String {
        try verifiedFolder(record, collectionID: collection.configuration.id)
    }

    func verifiedFolder(_ record: SnapshotRecords.Record, collectionID: Int64) throws(EngineError) -> String {
        let folder = snapshotFolder(collectionID: collectionID)
        let manifest: SnapshotManifest
        do { manifest = try folder.verify(id: record.id) } catch {
            throw EngineError(.snapshotInvalid, "snapshot \(record.id) does not verify: \(error)")
        }
        guard manifest.rootHash == record.rootHash else {
            throw EngineError(.snapshotInvalid, "snapshot \(record.id): the folder's root hash differs from the recorded one")
        }
        return folder.path(of: record.id)
    }
}
