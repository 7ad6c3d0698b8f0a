import Foundation
import Store

/// How a replica starts a collection: from its newest usable snapshot, brought up to date
/// with the record, else from PostgreSQL alone.
extension LiveCollections {
    /// Loads `configuration`'s collection and says how ("from snapshot …" or "from PostgreSQL
    /// (…why…)"). Snapshot files are verified (every SHA-256 against the manifest, the root
    /// hash against the record) before anything is loaded; a refused snapshot is named and the
    /// next older one tried.
    func boot(_ configuration: CollectionConfiguration) async throws -> (LiveCollection, String) {
        let id = configuration.id
        let candidates = try await pool.withConnection { try SnapshotRecords.startCandidates(collectionID: id, on: $0) }
        var refused: [String] = []
        var restored: (record: SnapshotRecords.Record, partitions: [SnapshotLayout.Captured])?
        for candidate in candidates {
            do {
                let partitions = try await BlockingWork.run { [self] in
                    try loadSnapshot(candidate, collectionID: id, tenants: nil)
                }
                restored = (candidate, partitions)
                break
            } catch {
                refused.append("snapshot \(candidate.id) refused: \(error)")
                report("collection \(configuration.name): snapshot \(candidate.id) refused at start-up: \(error)")
            }
        }
        let origin = replica.name, log = retrievalLog
        let chosen = restored, why = candidates.isEmpty ? "no snapshot with a change-log position" : refused.joined(separator: "; ")
        return try await pool.withConnection { connection in
            // One consistent read of the record at one change-log position: the collection
            // starts exactly at `head` and the listener applies what follows.
            try connection.transaction(isolation: .repeatableRead) { c in
                let head = try ChangeLog.head(on: c)
                let collection: LiveCollection
                let source: String
                if let restored = chosen {
                    collection = try LiveCollection.load(configuration, restoring: restored.partitions, retrievalLog: log,
                                                         origin: origin, on: c)
                    source = "from snapshot \(restored.record.id)"
                } else {
                    collection = try LiveCollection.load(configuration, retrievalLog: log, origin: origin, on: c)
                    source = "from PostgreSQL (\(why))"
                }
                collection.position.advance(to: head)
                return (collection, source)
            }
        }
    }
}

extension LiveCollection {
    /// A collection whose partitions come from a snapshot, reconciled with the record: rows
    /// the snapshot holds that are no longer live are tombstoned, live rows it lacks are
    /// added (their embeddings read now), so the served state equals loading from PostgreSQL
    /// while only the difference is indexed. The quarantine and flags come from the record.
    static func load(_ configuration: CollectionConfiguration, restoring restored: [SnapshotLayout.Captured],
                     retrievalLog: RetrievalLog?, origin: String, on connection: Connection) throws -> LiveCollection {
        let collection = LiveCollection(configuration: configuration, retrievalLog: retrievalLog, origin: origin)
        let entries = try DocumentRecords.loadLiveEntries(collectionID: configuration.id, on: connection)
        let byTenant = Dictionary(grouping: entries, by: \.tenant)
        let snapshotTenants = Set(restored.map(\.tenant))
        var missingVectors: [Int64] = []
        var plans: [(Partition, graph: [Int64], lexical: [Int64])] = []
        for captured in restored {
            let live = Set((byTenant[captured.tenant] ?? []).map(\.rowID))
            guard !live.isEmpty else { continue }
            let inGraph = Set(captured.graph.liveLabels.map { Int64($0) })
            let inLexical = Set(captured.lexical.liveLabels.map { Int64($0) })
            for rowID in inGraph.subtracting(live) { try? captured.graph.delete(label: UInt64(rowID)) }
            for rowID in inLexical.subtracting(live) { try? captured.lexical.delete(label: UInt64(rowID)) }
            let partition = Partition(tenant: captured.tenant, graph: captured.graph, lexical: captured.lexical, withheld: [])
            let graphMissing = live.subtracting(inGraph).sorted(), lexicalMissing = live.subtracting(inLexical).sorted()
            missingVectors += graphMissing
            plans.append((partition, graphMissing, lexicalMissing))
        }
        for (tenant, rows) in byTenant where !snapshotTenants.contains(tenant) {
            let partition = try Partition(tenant: tenant, parameters: configuration.hnswParameters)
            let ids = rows.map(\.rowID)
            missingVectors += ids
            plans.append((partition, ids, ids))
        }
        let vectors = Dictionary(uniqueKeysWithValues: try DocumentRecords.load(rowIDs: missingVectors, collectionID: configuration.id,
                                                                               on: connection).map { ($0.rowID, $0.record.embedding) })
        let texts = Dictionary(uniqueKeysWithValues: entries.map { ($0.rowID, $0.text) })
        for (partition, graphRows, lexicalRows) in plans {
            try partition.addMissing(graph: graphRows.compactMap { id in vectors[id].map { (id, $0) } },
                                     lexical: lexicalRows.compactMap { id in texts[id].map { (id, $0) } })
            collection.partitions[partition.tenant] = partition
        }
        for entry in entries {
            collection.documents[entry.rowID] = DocumentEntry(rowID: entry.rowID, externalID: entry.externalID,
                                                              tenant: entry.tenant, text: entry.text)
            collection.rowIDs[DocumentKey(tenant: entry.tenant, externalID: entry.externalID)] = entry.rowID
        }
        try collection.loadContainment(on: connection)
        return collection
    }
}
