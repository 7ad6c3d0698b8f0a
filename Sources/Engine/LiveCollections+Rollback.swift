import Foundation
import HubScan
import Incidents
import Snapshots
import Store
import VectorMath

extension LiveCollection {
    /// The vectors a restored snapshot would serve (live in it, not quarantined now), with the
    /// documents they are; a row the collection no longer holds keeps its row id as its name.
    func servableVectors(of restored: [SnapshotLayout.Captured]) -> (entries: [DocumentEntry], matrix: Matrix) {
        let (known, withheld) = state.reading { (documents, Set(quarantined.keys)) }
        var entries: [DocumentEntry] = []
        var values: [Float] = []
        for partition in restored {
            for label in partition.graph.liveLabels where !withheld.contains(Int64(label)) {
                guard let vector = partition.graph.vector(forLabel: label) else { continue }
                let rowID = Int64(label)
                entries.append(known[rowID] ?? DocumentEntry(rowID: rowID, externalID: "row:\(rowID)", tenant: partition.tenant, text: ""))
                values += vector
            }
        }
        let matrix = (try? Matrix(rows: entries.count, dimension: configuration.dimension, storage: values))
            ?? Matrix(zeroRows: 0, dimension: configuration.dimension)
        return (entries, matrix)
    }
}

extension LiveCollections {
    /// Verifies a snapshot: its files against the manifest and the recorded root hash, then a
    /// HubScan of the vectors it would serve. With every z below the threshold the snapshot
    /// becomes `verified_clean`: a rollback target ("last-clean"). The scan is stored either way.
    public func verify(snapshot id: String, of collection: LiveCollection, options: HubScanner.Options)
        async throws(EngineError) -> SnapshotVerification {
        let record = try await servableSnapshot(id, of: collection)
        let report: ScanReport, entries: [DocumentEntry]
        do {
            (report, entries) = try await BlockingWork.run { [self] in
                let restored = try loadSnapshot(record, of: collection, tenants: nil)
                let (entries, matrix) = collection.servableVectors(of: restored)
                guard matrix.rows >= Self.scanDocumentsMin else {
                    throw EngineError(.invalidInput, "snapshot \(record.id) serves \(matrix.rows) documents; a scan needs at least \(Self.scanDocumentsMin)")
                }
                let queries = try collection.realQueries(tenant: nil, options: options)
                return (try HubScanner.scan(matrix, metric: collection.configuration.metric, realQueries: queries,
                                            options: options), entries)
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
        let scan = try await store(report, entries: entries, of: collection, tenant: nil, snapshotID: record.id)
        let clean = report.distribution.maxZ < options.threshold
        var status = record.status
        if clean && status == .published {
            do {
                try await pool.withConnection { try SnapshotRecords.markVerifiedClean(record.id, scanReportID: scan.id, on: $0) }
            } catch {
                throw LiveCollection.mapped(error)
            }
            status = .verifiedClean
        }
        return SnapshotVerification(id: record.id, rootHash: record.rootHash ?? "", status: status, scanID: scan.id,
                                    maxZ: report.distribution.maxZ, threshold: options.threshold, flagged: report.flagged.count)
    }

    /// Restores the partitions of `tenant` (every partition when nil) from a snapshot
    /// (`"last-clean"`: the newest verified-clean one), under an incident.
    ///
    /// The files are verified and loaded off every lock. Then, under the collection's writer
    /// mutex: documents ingested after the snapshot are retired and the rollback is recorded
    /// on the incident, in one transaction; documents deleted since are tombstoned in the
    /// restored indexes; and the restored partitions are swapped in under the write lock with
    /// the active quarantine applied. In-flight searches finish on the old partitions; no
    /// search fails; a snapshot never brings back a quarantined or deleted document.
    public func rollback(_ collection: LiveCollection, to id: String, tenant: String?, incident: IncidentReference,
                         actor: String) async throws(EngineError) -> RollbackOutcome {
        try await Spans.run("firebreak.rollback", attributes: ["firebreak.collection": collection.configuration.name, "firebreak.snapshot": id]) {
            () async throws(EngineError) -> RollbackOutcome in
            let started = Date()
            let record = try await servableSnapshot(id, of: collection)
            let restored: [SnapshotLayout.Captured]
            do {
                restored = try await BlockingWork.run { [self] in
                    try loadSnapshot(record, of: collection, tenants: tenant.map { [$0] })
                }
            } catch {
                throw LiveCollection.mapped(error)
            }
            let loaded = Date()
            let held = Dictionary(uniqueKeysWithValues: restored.map { ($0.tenant, $0.liveRowIDs) })
            let outcome = try await write(collection) { connection throws(EngineError) in
                let (targets, live, retire) = try Self.retiring(collection, restored: restored, held: held, tenant: tenant,
                                                                snapshotID: record.id)
                let incidentID = try incident.resolve(collection: collection.configuration.name, tenant: tenant, actor: actor,
                                                      on: connection)
                let retired: Int
                do {
                    retired = try RollbackRecords.commit(
                        collectionID: collection.configuration.id, retiring: retire.sorted(), incidentID: incidentID, actor: actor,
                        event: RolledBack(snapshotID: record.id, rootHash: record.rootHash, collection: collection.configuration.name,
                                          tenants: targets, documentsRetired: 0), on: connection)
                } catch {
                    throw LiveCollection.mapped(error)
                }
                // Applied after the commit: the restored partitions, tombstoned to what is live then.
                try collection.append(.rolledBack(snapshotID: record.id, tenants: targets, retired: retire.sorted()),
                                      prepared: .restored(restored), on: connection)
                let served = restored.reduce(0) { total, partition in
                    total + (held[partition.tenant] ?? []).intersection(live[partition.tenant, default: []]).count
                }
                return RollbackOutcome(snapshotID: record.id, rootHash: record.rootHash ?? "", incidentID: incidentID,
                                       tenants: targets, documents: served, retired: retired, seconds: 0, phases: [:])
            }
            let swapped = Date()
            return RollbackOutcome(snapshotID: outcome.snapshotID, rootHash: outcome.rootHash, incidentID: outcome.incidentID,
                                   tenants: outcome.tenants, documents: outcome.documents, retired: outcome.retired,
                                   seconds: swapped.timeIntervalSince(started),
                                   phases: ["load": loaded.timeIntervalSince(started),
                                            "commit_and_swap": swapped.timeIntervalSince(loaded)])
        }
    }

    /// The partitions a rollback restores, what is live in them now, and the rows it retires
    /// (live now, not held by the snapshot): one rule for the rollback and its preview.
    private static func retiring(_ collection: LiveCollection, restored: [SnapshotLayout.Captured],
                                 held: [String: Set<Int64>], tenant: String?, snapshotID: String)
        throws(EngineError) -> (targets: [String], live: [String: Set<Int64>], retire: [Int64]) {
        let current = collection.status().tenants
        if let tenant, !current.contains(tenant), !restored.contains(where: { $0.tenant == tenant }) {
            throw EngineError(.invalidInput, "neither the collection nor snapshot \(snapshotID) has a tenant \(tenant)")
        }
        let targets = tenant.map { [$0] } ?? Set(current).union(restored.map(\.tenant)).sorted()
        guard !collection.isRebuilding(anyOf: targets) else {
            throw EngineError(.rebuildRunning, "a partition of \(collection.configuration.name) is rebuilding; cancel it or wait before rolling back")
        }
        let live = collection.liveRowIDs(tenants: targets)
        var retire: [Int64] = []
        for target in targets { retire += live[target, default: []].subtracting(held[target] ?? []) }
        return (targets, live, retire)
    }

    /// What a rollback to `id` would change, without changing anything: the documents that
    /// would stop being served (ingested after the snapshot), by tenant and id, and how many
    /// stay. The snapshot's files are verified and read as the rollback would; nothing is locked
    /// for writing, so the rollback itself may find a little more to retire if writes follow.
    public func previewRollback(_ collection: LiveCollection, to id: String, tenant: String?)
        async throws(EngineError) -> RollbackPreview {
        let record = try await servableSnapshot(id, of: collection)
        let restored: [SnapshotLayout.Captured]
        do {
            restored = try await BlockingWork.run { [self] in try loadSnapshot(record, of: collection, tenants: tenant.map { [$0] }) }
        } catch {
            throw LiveCollection.mapped(error)
        }
        let held = Dictionary(uniqueKeysWithValues: restored.map { ($0.tenant, $0.liveRowIDs) })
        let (targets, live, retire) = try Self.retiring(collection, restored: restored, held: held, tenant: tenant, snapshotID: record.id)
        let named = collection.state.reading { retire.compactMap { collection.documents[$0] } }
        let stopping = named.map { RollbackPreview.Document(id: $0.externalID, tenant: $0.tenant) }
            .sorted { ($0.tenant, $0.id) < ($1.tenant, $1.id) }
        let kept = targets.reduce(0) { $0 + (held[$1] ?? []).intersection(live[$1, default: []]).count }
        return RollbackPreview(snapshotID: record.id, rootHash: record.rootHash ?? "", tenants: targets,
                               stopServing: stopping, keptServing: kept)
    }
}

/// What a rollback would do (`LiveCollections.previewRollback`): nothing is changed by it.
public struct RollbackPreview: Sendable, Equatable {
    public struct Document: Sendable, Equatable {
        public let id: String
        public let tenant: String
    }

    public let snapshotID: String
    public let rootHash: String
    public let tenants: [String]
    /// Served now, not held by the snapshot: ingested after it. They stay in the record.
    public let stopServing: [Document]
    /// Held by the snapshot and live now: still served after the rollback.
    public let keptServing: Int
}
