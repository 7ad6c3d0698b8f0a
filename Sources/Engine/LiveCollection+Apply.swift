import HNSW
import Store

/// The one way a collection's served state changes: change-log rows applied in seq order.
/// A local writer appends its row in its own transaction (`append`) and, after the commit,
/// applies it like any other replica would (`LiveCollections.catchUp`).
extension LiveCollection {
    /// Appends `change` in the writer's open transaction; `prepared` is what this writer
    /// already holds for applying it. Caller holds `writers`.
    @discardableResult
    func append(_ change: Change, prepared: PreparedChange? = nil, on connection: Connection) throws(EngineError) -> Int64 {
        let seq: Int64
        do {
            seq = try ChangeLog.append(change, collectionID: configuration.id, origin: origin, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        if let prepared { stash[seq] = prepared }
        appendedSeqs.append(seq)
        return seq
    }

    /// Forgets what an aborted transaction appended. Caller holds `writers`.
    func discardAppended() {
        discardPrepared(appendedSeqs)
        appendedSeqs.removeAll()
    }

    /// Forgets what was prepared for `seqs`, which never committed. Caller holds `writers`.
    func discardPrepared(_ seqs: [Int64]) {
        for seq in seqs {
            if case .documents(_, let staged)? = stash.removeValue(forKey: seq) { abandon(staged) }
        }
    }

    /// Applies rows of this collection, oldest first, all under one write-lock section: a
    /// search sees the state before the batch or after it, never in between. Rows at or below
    /// the position are skipped (applying is idempotent). Caller holds `writers`.
    func apply(_ rows: [ChangeRow], prepared: [Int64: PreparedChange]) throws(EngineError) {
        try mutate { () throws(EngineError) in
            for row in rows {
                guard row.seq > position.value else {
                    // Applied already: vectors a writer staged for it are never served twice.
                    if case .documents(_, let staged)? = prepared[row.seq] { for one in staged { one.abandon() } }
                    continue
                }
                precondition(row.collectionID == configuration.id, "rows are routed to their own collection")
                do {
                    try applyLocked(row.change, prepared: prepared[row.seq])
                } catch {
                    throw EngineError(.indexFailed, "change \(row.seq) (\(row.change.kind)) of collection \(configuration.name) cannot be applied: \((error as? EngineError)?.message ?? "\(error)")")
                }
                position.advance(to: row.seq)
            }
        }
    }

    /// One row's effect on memory. Caller holds the write lock.
    private func applyLocked(_ change: Change, prepared: PreparedChange?) throws(EngineError) {
        switch change {
        case .collectionCreated, .goldenQueriesReplaced:
            break  // nothing in memory: the collection exists; golden queries are read when a rebuild needs them
        case .documentsIngested(let ids, let held, let incidentID):
            guard case .documents(let byRow, let staged) = prepared else {
                throw EngineError(.storeFailed, "the documents of the change were not loaded")
            }
            let fresh = ids.filter { documents[$0] == nil }
            let batch = try fresh.map { (rowID) throws(EngineError) -> NewDocument in
                guard let document = byRow[rowID] else { throw EngineError(.storeFailed, "document row \(rowID) is missing from the record") }
                return document
            }
            try index(batch, rowIDs: fresh, staged: staged)
            for rowID in held where quarantined[rowID] == nil {
                applyQuarantine(rowID: rowID, hold: .screened(incidentID: incidentID))
            }
        case .documentsDeleted(let ids):
            for rowID in ids { forget(rowID: rowID) }
        case .documentsQuarantined(let ids, let incidentID):
            for rowID in ids {
                if quarantined[rowID] == nil { applyQuarantine(rowID: rowID, hold: .recorded(incidentID: incidentID)) }
                else if documents[rowID] != nil { quarantined[rowID] = .recorded(incidentID: incidentID) }
            }
        case .documentsReleased(let ids):
            // A document a local quarantine withheld before its transaction stays withheld:
            // that quarantine's own row, or its undo if it fails, decides (fail closed).
            for rowID in ids where quarantined[rowID] != .recording { applyRelease(rowID: rowID) }
        case .flagSet(let name, let tenant, let enabled):
            guard let flag = FeatureFlag(rawValue: name), flag != .tenantBlock || !tenant.isEmpty else {
                throw EngineError(.invalidInput, "unknown flag \(name) (tenant \"\(tenant)\")")
            }
            flags.set(flag, enabled: enabled, tenant: tenant)
        case .partitionRebuilt(let tenant, _, _, _):
            // The rebuilt graph: the origin's from memory, another replica's from the file the
            // row names. Without it a replica keeps its own graph, which serves the same
            // documents (the quarantine filters what the rebuild left out).
            guard case .graph(let graph) = prepared else { break }
            let live = Set(documents.values.filter { $0.tenant == tenant }.map(\.rowID))
            partitions[tenant]?.replaceGraph(graph, live: live, withheld: Set(quarantined.keys))
        case .rebuildStarted(let tenants, _):
            for tenant in tenants { partitions[tenant]?.rebuilding = true }
        case .rebuildEnded(let tenants, _, _):
            for tenant in tenants { partitions[tenant]?.rebuilding = false }
        case .rolledBack(_, let tenants, let retired):
            let restored: [SnapshotLayout.Captured]
            if case .restored(let loaded) = prepared { restored = loaded } else { restored = [] }
            applyRollback(restored, tenants: tenants, retired: Set(retired), restoring: prepared != nil)
        case .scanScheduleChanged(let policy, let enabled):
            screens.holdOnArrival = enabled && policy == ScanPolicy.autoContain.rawValue
        }
    }

    /// Removes a document from memory and both indexes (it stays in PostgreSQL as evidence).
    private func forget(rowID: Int64) {
        guard let entry = documents.removeValue(forKey: rowID) else { return }
        rowIDs.removeValue(forKey: entry.key)
        quarantined.removeValue(forKey: rowID)
        partitions[entry.tenant]?.delete(rowID: rowID)
    }

    /// A rollback: `retired` leave the served set; with `restoring`, the partitions of
    /// `tenants` are replaced by the restored ones (tombstoned to what is live now, the
    /// active quarantine applied), and a listed tenant the snapshot lacks is emptied. Without
    /// (the snapshot could not be loaded here) only the retirement is applied: the same
    /// documents are served, from this replica's own indexes.
    private func applyRollback(_ restored: [SnapshotLayout.Captured], tenants: [String], retired: Set<Int64>,
                               restoring: Bool) {
        for rowID in retired { forget(rowID: rowID) }
        guard restoring else { return }
        var live: [String: Set<Int64>] = [:]
        for entry in documents.values { live[entry.tenant, default: []].insert(entry.rowID) }
        for captured in restored {
            let keep = live[captured.tenant, default: []]
            for rowID in captured.liveRowIDs where !keep.contains(rowID) {
                try? captured.graph.delete(label: UInt64(rowID))
                try? captured.lexical.delete(label: UInt64(rowID))
            }
            partitions[captured.tenant] = Partition(tenant: captured.tenant, graph: captured.graph, lexical: captured.lexical,
                                                    withheld: keep.filter { quarantined[$0] != nil })
        }
        for tenant in tenants where !restored.contains(where: { $0.tenant == tenant }) {
            partitions.removeValue(forKey: tenant)
        }
    }
}
